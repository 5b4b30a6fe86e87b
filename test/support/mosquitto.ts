import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freeLoopbackPort as freePort } from "../../src/demo/embedded-redis.js";

/**
 * A private Mosquitto (the machine's own binary) for tests that must control the broker: kill a
 * subscriber for minutes' worth of messages, or stop the broker itself. Its config is the one the
 * README asks of production brokers: queues deep enough to bridge a hub restart.
 */
export interface PrivateMosquitto {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? "/usr/sbin/mosquitto";

/**
 * PEM files for a TLS listener that admits only clients with a certificate from `cafile`; the
 * certificate's common name becomes the client's user name, so no one is anonymous.
 */
export interface MosquittoTls {
  cafile: string;
  certfile: string;
  keyfile: string;
}

export async function startPrivateMosquitto(options: { tls?: MosquittoTls; port?: number } = {}): Promise<PrivateMosquitto> {
  const { tls } = options;
  const dir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-mosquitto-"));
  const port = options.port ?? (await freePort());
  const config = path.join(dir, "mosquitto.conf");
  await writeFile(
    config,
    [
      `listener ${port} 127.0.0.1`,
      ...(tls
        ? [
            `cafile ${tls.cafile}`,
            `certfile ${tls.certfile}`,
            `keyfile ${tls.keyfile}`,
            "require_certificate true",
            "use_identity_as_username true",
            "allow_anonymous false",
          ]
        : ["allow_anonymous true"]),
      "persistence false",
      "max_queued_messages 200000",
      "max_inflight_messages 0",
      "log_dest none",
    ].join("\n") + "\n",
  );
  const child = spawn(MOSQUITTO_BIN, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  await waitForPort(port, child, () => stderr);
  return {
    url: `${tls ? "mqtts" : "mqtt"}://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export { freePort };

export async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not listen on ${port} within 10 s: ${output()}`);
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
