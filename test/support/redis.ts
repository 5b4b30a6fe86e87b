import { spawn } from "node:child_process";
import { freePort, stopChild, waitForPort } from "./mosquitto.js";

export interface PrivateRedis {
  url: string;
  port: number;
  /** Kills the server; its data goes with it (nothing is saved). */
  kill(): Promise<void>;
  /** Starts a fresh, empty server on the same port. */
  restart(): Promise<void>;
}

/** A redis-server of the test's own, so a test can take it away without touching anyone else's. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ReturnType<typeof spawn> | undefined;
  const start = async () => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"];
    const started = spawn(process.env.REDIS_SERVER_BIN ?? "redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    started.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child = started;
    await waitForPort(port, started, () => stderr);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => {
      if (child) await stopChild(child, "SIGKILL");
      child = undefined;
    },
    restart: start,
  };
}
