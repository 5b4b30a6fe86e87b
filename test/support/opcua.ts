import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startOpcuaSimulator, type OpcuaSimulator, type OpcuaSimulatorOptions } from "../../src/demo/opcua-simulator.js";

/** A temporary folder for PKIs (each server and the hub get their own subfolder); removed by `remove`. */
export async function temporaryPkiRoot(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-opcua-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** An in-process simulator whose PKI lives under `root/<name>`. */
export function startTestSimulator(root: string, name: string, options: Omit<OpcuaSimulatorOptions, "pkiDir">): Promise<OpcuaSimulator> {
  return startOpcuaSimulator({ ...options, pkiDir: path.join(root, name) });
}

/** A loopback port with nothing listening: bound, then released. */
export async function closedPort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
