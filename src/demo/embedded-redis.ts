import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { redactUrl } from "../config.js";
import type { Logger } from "../log/logger.js";

export interface ResolvedRedis {
  url: string;
  /** True when this process started its own redis-server for it. */
  embedded: boolean;
  /** Stops the embedded redis-server and removes its directory; a no-op otherwise. Idempotent. */
  stop(): Promise<void>;
}

export interface ResolveRedisOptions {
  /** REDIS_URL: used as is, nothing is probed or started. */
  redisUrl?: string;
  log: Logger;
  /** Where a local Redis is looked for first. Default redis://127.0.0.1:6379. */
  probeUrl?: string;
  /** The binary to start when nothing answers. Default "redis-server" from PATH. */
  redisServerCommand?: string;
}

/** No Redis was given or found, and none could be started. */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

const DEFAULT_PROBE_URL = "redis://127.0.0.1:6379";
const PROBE_TIMEOUT_MS = 500;
const START_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 3_000;
const OUTPUT_TAIL_CHARS = 4_000;
const START_ATTEMPTS = 3;

/**
 * The Redis the hub uses: REDIS_URL when set; else a Redis answering at the probe address; else a
 * private redis-server from PATH on a free loopback port, in a temporary directory, stopped by
 * `stop()` or, at the latest, when this process exits.
 */
export async function resolveRedis(options: ResolveRedisOptions): Promise<ResolvedRedis> {
  const noop = async (): Promise<void> => {};
  if (options.redisUrl) return { url: options.redisUrl, embedded: false, stop: noop };

  const log = options.log.child({ component: "embedded-redis" });
  const probeUrl = options.probeUrl ?? DEFAULT_PROBE_URL;
  if (await answersPing(probeUrl, PROBE_TIMEOUT_MS)) {
    log.info({ url: probeUrl }, "using the Redis answering at the default address");
    return { url: probeUrl, embedded: false, stop: noop };
  }

  const command = options.redisServerCommand ?? "redis-server";
  const dir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-redis-"));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freeLoopbackPort();
      try {
        return await startServer(command, port, dir, probeUrl, log);
      } catch (error) {
        // Another process may take the free port between our probe and redis-server's bind.
        if (error instanceof PortTakenError && attempt < START_ATTEMPTS) continue;
        throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

class PortTakenError extends Error {}

async function startServer(command: string, port: number, dir: string, probeUrl: string, log: Logger): Promise<ResolvedRedis> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
  args.push("--maxmemory-policy", "noeviction"); // BullMQ refuses to run on an evicting Redis
  // Not detached: it stays in our process group, so a Ctrl-C or a group kill reaches it too.
  const child = spawn(command, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });

  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  // If the hub exits without stop() (crash, process.exit), the server must not outlive it.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", killOnExit);

  const exited = new Promise<void>((resolve) => {
    if (isGone(child)) resolve();
    else child.once("exit", () => resolve());
  });

  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
  } catch (error) {
    process.off("exit", killOnExit);
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new RedisUnavailableError(
        `No Redis answers at ${redactUrl(probeUrl)} and there is no ${command} on PATH. ` +
          "Install one (Debian/Ubuntu: `sudo apt install redis-server`; macOS: `brew install redis`) " +
          "or set REDIS_URL=redis://host:6379 to use a Redis elsewhere.",
        { cause: error },
      );
    }
    throw error;
  }

  const url = `redis://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!isGone(child)) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      process.off("exit", killOnExit);
      await rm(dir, { recursive: true, force: true });
      log.info({ url }, "embedded redis-server stopped");
    })();
    return stopping;
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (isGone(child)) {
      process.off("exit", killOnExit);
      const how = child.exitCode !== null ? `exited with code ${child.exitCode}` : `was killed by ${child.signalCode}`;
      const message = `${command} ${how} before it answered on port ${port}: ${output.trim() || "(no output)"}`;
      throw /address already in use/i.test(output) ? new PortTakenError(message) : new Error(message);
    }
    if (await answersPing(url, Math.min(PROBE_TIMEOUT_MS, Math.max(deadline - Date.now(), 50)))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${command} did not answer PING on port ${port} within ${START_TIMEOUT_MS / 1000} s: ${output.trim() || "(no output)"}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  child.once("exit", (code, signal) => {
    if (!stopping) log.error({ url, code, signal, output: output.trim() }, "embedded redis-server exited unexpectedly");
  });
  log.info({ url, pid: child.pid, dir }, "embedded redis-server started");
  return { url, embedded: true, stop };
}

function isGone(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** True when a Redis at `url` answers PING within `timeoutMs`; leaves no socket or timer behind. */
async function answersPing(url: string, timeoutMs: number): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    disconnectTimeout: 50,
  });
  redis.on("error", () => {}); // the outcome is reported through the promise below
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** A TCP port free on 127.0.0.1 right now (the tests use it too). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
