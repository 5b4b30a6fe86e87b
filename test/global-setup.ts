import pg from "pg";
import { Redis } from "ioredis";
import mqtt from "mqtt";
import { TEST_MQTT_URL, TEST_POSTGRES_URL, TEST_REDIS_URL } from "./support/services.js";

/**
 * Runs once before any test file: PostgreSQL, Redis and the MQTT broker must answer. A missing
 * service fails the whole run with a message saying which one, where it was looked for and how to
 * start it; tests never skip because a service is absent. The three checks run in parallel.
 */

const TIMEOUT_MS = 5_000;

interface ServiceCheck {
  name: string;
  url: string;
  envVar: string;
  howToStart: string;
  /** Must release its connection when `signal` aborts, so a hung service cannot hold the run open. */
  check(url: string, signal: AbortSignal): Promise<void>;
}

const services: ServiceCheck[] = [
  {
    name: "PostgreSQL",
    url: TEST_POSTGRES_URL,
    envVar: "TEST_POSTGRES_URL",
    howToStart:
      "docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:17 (or `sudo service postgresql start`)",
    check: checkPostgres,
  },
  {
    name: "Redis",
    url: TEST_REDIS_URL,
    envVar: "TEST_REDIS_URL",
    howToStart: "docker run -d -p 6379:6379 redis:7 (or `sudo service redis-server start`)",
    check: checkRedis,
  },
  {
    name: "Mosquitto (MQTT broker)",
    url: TEST_MQTT_URL,
    envVar: "TEST_MQTT_URL",
    howToStart:
      "docker run -d -p 1883:1883 eclipse-mosquitto:2 mosquitto -c /mosquitto-no-auth.conf (or `sudo service mosquitto start`)",
    check: checkMqtt,
  },
];

export default async function setup(): Promise<void> {
  const results = await Promise.all(
    services.map(async (service) => {
      try {
        await withTimeout((signal) => service.check(service.url, signal), TIMEOUT_MS);
        return undefined;
      } catch (error) {
        const reason = error instanceof Error ? error.message || error.name : String(error);
        return (
          `${service.name} did not answer at ${redact(service.url)} (${reason}).\n` +
          `  Start it: ${service.howToStart}\n` +
          `  or point ${service.envVar} at a running ${service.name}.`
        );
      }
    }),
  );
  const failures = results.filter((r): r is string => r !== undefined);
  if (failures.length > 0) {
    throw new Error(`Integration services are required; the test run stops here.\n${failures.join("\n")}`);
  }
}

async function checkPostgres(url: string, signal: AbortSignal): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS, query_timeout: TIMEOUT_MS });
  client.on("error", () => {}); // a dropped connection surfaces through connect/query below
  signal.addEventListener("abort", () => void client.end().catch(() => {}));
  try {
    await client.connect();
    await client.query("select 1");
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkRedis(url: string, signal: AbortSignal): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    disconnectTimeout: 100, // a hung server must not hold the socket open after we give up
  });
  redis.on("error", () => {}); // reported through connect()/ping(); without a listener ioredis logs noise
  signal.addEventListener("abort", () => redis.disconnect());
  try {
    await redis.connect();
    const answer = await redis.ping();
    if (answer !== "PONG") throw new Error(`PING answered ${answer}`);
  } finally {
    redis.disconnect();
  }
}

async function checkMqtt(url: string, signal: AbortSignal): Promise<void> {
  const client = mqtt.connect(url, {
    clientId: `plantgraph-test-check-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    reconnectPeriod: 0,
    connectTimeout: TIMEOUT_MS,
  });
  signal.addEventListener("abort", () => void client.endAsync(true).catch(() => {}));
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
      client.once("close", () => reject(new Error("connection closed before CONNACK")));
    });
  } finally {
    await client.endAsync(true).catch(() => {});
  }
}

/** Rejects after `ms` and aborts the check so it closes its socket. */
function withTimeout(run: (signal: AbortSignal) => Promise<void>, ms: number): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms / 1000} s`));
      controller.abort();
    }, ms);
  });
  const check = run(controller.signal);
  check.catch(() => {}); // after a timeout its late rejection is expected
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}

/** Service URLs may carry a password; never print it. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
