import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { resolveRedis, RedisUnavailableError, type ResolvedRedis } from "../../src/demo/embedded-redis.js";
import { REPO_ROOT } from "../support/hub-process.js";
import { capturingLogger } from "../support/logger.js";
import { freePort } from "../support/mosquitto.js";
import { TEST_REDIS_URL } from "../support/services.js";

/** resolveRedis against real processes: a given REDIS_URL, the machine's Redis, and a redis-server it starts itself. */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function resolved(options: Omit<Parameters<typeof resolveRedis>[0], "log">, log = capturingLogger().log): Promise<ResolvedRedis> {
  const redis = await resolveRedis({ ...options, log });
  cleanups.push(() => redis.stop());
  return redis;
}

async function client(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  cleanups.push(async () => redis.disconnect());
  await redis.connect();
  return redis;
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

const closedPortUrl = async (): Promise<string> => `redis://127.0.0.1:${await freePort()}`;

describe("resolveRedis", () => {
  it("returns a given REDIS_URL as is, without probing or starting anything", async () => {
    const { log, lines } = capturingLogger();
    // Nothing listens there: a probe would fail, and a start would be logged.
    const given = await closedPortUrl();
    const redis = await resolved({ redisUrl: given, probeUrl: await closedPortUrl() }, log);

    expect(redis).toMatchObject({ url: given, embedded: false });
    expect(lines.map((line) => line.msg)).not.toContain("embedded redis-server started");
    await redis.stop();
    await redis.stop();
  });

  it("uses the Redis that answers at the probe address", async () => {
    const redis = await resolved({ probeUrl: TEST_REDIS_URL });

    expect(redis).toMatchObject({ url: TEST_REDIS_URL, embedded: false });
    await redis.stop();
    expect(await (await client(TEST_REDIS_URL)).ping()).toBe("PONG");
  });

  it("starts a private redis-server when nothing answers, and stop() ends it and removes its directory", async () => {
    const { log, lines } = capturingLogger();
    const redis = await resolved({ probeUrl: await closedPortUrl() }, log);

    expect(redis.embedded).toBe(true);
    expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const started = lines.find((line) => line.msg === "embedded redis-server started");
    expect(started).toMatchObject({ url: redis.url, component: "embedded-redis" });
    const dir = started?.dir as string;
    expect(dir).toMatch(/plantgraph-redis-/);
    expect(existsSync(dir)).toBe(true);

    const connection = await client(redis.url);
    expect(await connection.ping()).toBe("PONG");
    await connection.set("plantgraph:test", "value");
    expect(await connection.get("plantgraph:test")).toBe("value");
    expect(await connection.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
    expect(await connection.config("GET", "save")).toEqual(["save", ""]);
    expect(await connection.config("GET", "appendonly")).toEqual(["appendonly", "no"]);
    connection.disconnect();

    const port = Number(new URL(redis.url).port);
    await redis.stop();
    expect(await isListening(port)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await redis.stop(); // a second stop is a no-op
  });

  it("gives each call its own server on its own port", async () => {
    const probeUrl = await closedPortUrl();
    const [first, second] = await Promise.all([resolved({ probeUrl }), resolved({ probeUrl })]);

    expect(first.url).not.toBe(second.url);
    await (await client(first.url)).set("which", "first");
    expect(await (await client(second.url)).get("which")).toBeNull();
  });

  it("says how to install redis-server or set REDIS_URL when there is none on PATH", async () => {
    const error = await resolveRedis({
      probeUrl: await closedPortUrl(),
      redisServerCommand: "definitely-not-redis-server-xyz",
      log: capturingLogger().log,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(RedisUnavailableError);
    const { message } = error as RedisUnavailableError;
    expect(message).toContain("REDIS_URL");
    expect(message).toContain("sudo apt install redis-server");
    expect(message).toContain("brew install redis");
    expect(message).toContain("definitely-not-redis-server-xyz");
  });

  it("reports the server's own output when it dies before answering, and leaves no directory behind", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-fake-redis-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const fake = path.join(dir, "fake-redis-server");
    await writeFile(fake, "#!/bin/sh\necho \"FATAL: cannot start ($*)\" >&2\nexit 3\n", { mode: 0o755 });
    const before = await redisTempDirs();

    const error = await resolveRedis({ probeUrl: await closedPortUrl(), redisServerCommand: fake, log: capturingLogger().log }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(RedisUnavailableError);
    const { message } = error as Error;
    expect(message).toContain("exited with code 3");
    expect(message).toContain("FATAL: cannot start (--port");
    expect(message).toContain("--maxmemory-policy noeviction");
    expect((await redisTempDirs()).filter((d) => !before.includes(d))).toEqual([]);
  });

  it("does not let the server outlive a process that crashes without calling stop()", async () => {
    const script = [
      `import { resolveRedis } from ${JSON.stringify(path.join(REPO_ROOT, "src/demo/embedded-redis.ts"))};`,
      `import { createLogger } from ${JSON.stringify(path.join(REPO_ROOT, "src/log/logger.ts"))};`,
      `const redis = await resolveRedis({ probeUrl: ${JSON.stringify(await closedPortUrl())}, log: createLogger("silent") });`,
      `console.log(JSON.stringify({ url: redis.url }));`,
      `setTimeout(() => { throw new Error("hub crashed"); }, 50);`,
    ].join("\n");
    const crashing = spawn(path.join(REPO_ROOT, "node_modules/.bin/tsx"), ["--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    crashing.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    crashing.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => crashing.once("exit", (c) => resolve(c)));

    expect(stderr).toContain("hub crashed");
    expect(code).not.toBe(0);
    const { url } = JSON.parse(stdout.trim()) as { url: string };
    expect(await isListening(Number(new URL(url).port))).toBe(false);
  });
});

async function redisTempDirs(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((name) => name.startsWith("plantgraph-redis-"));
}
