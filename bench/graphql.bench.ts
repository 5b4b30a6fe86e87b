import http from "node:http";
import path from "node:path";
import { applyPlantFile } from "../src/assets/plant-apply.js";
import { createApiKey } from "../src/auth/api-key.service.js";
import { createAuthenticator } from "../src/auth/authenticator.js";
import { parseConfig } from "../src/config.js";
import { startHttpServer, type HttpServer } from "../src/http/server.js";
import { createLogger } from "../src/log/logger.js";
import { createHubPubSub } from "../src/pubsub/pubsub.js";
import { LatestValues } from "../src/telemetry/latest-values.js";
import { createTestDatabase } from "../test/support/database.js";
import { TEST_REDIS_URL } from "../test/support/services.js";
import { ratio } from "./support.js";

/**
 * The price of the security layer on a typical authorized query: the same server twice in one
 * process, once with API key authentication, query limits and the Redis rate limiter, once with
 * all of that off, driven by the same keep-alive clients in alternating rounds so drift cancels.
 * Tunables: BENCH_CONCURRENCY, BENCH_SECONDS (per round and configuration), BENCH_ROUNDS,
 * BENCH_RATE_STORE (redis | memory).
 */

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const RATE_STORE = process.env.BENCH_RATE_STORE ?? "redis";
const READINGS_PER_POINT = 200;
const QUERY = "{ machines(first: 10) { edges { node { name state metrics { name unit latest { value ts } } } } } }";
const log = createLogger(process.env.BENCH_LOG_LEVEL ?? "silent");

interface Target {
  name: string;
  server: HttpServer;
  headers: Record<string, string>;
}

/** A POST that resolves with the status once the whole body has arrived. */
function request(agent: http.Agent, url: URL, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent, headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Requests per second over `seconds`, from CONCURRENCY clients each sending one request at a time. */
async function drive(target: Target, seconds: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const url = new URL(target.server.url);
  const body = JSON.stringify({ query: QUERY });
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const client = async () => {
    while (performance.now() < deadline) {
      const { status, text } = await request(agent, url, body, target.headers);
      if (status !== 200 || text.includes('"errors"')) throw new Error(`${target.name}: HTTP ${status} ${text.slice(0, 300)}`);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return done / elapsed;
}

const db = await createTestDatabase("bench_graphql");
const pubsub = createHubPubSub();
const servers: HttpServer[] = [];
try {
  await applyPlantFile(db.database, path.resolve("src/demo/demo-plant.yaml"), log);
  await db.database.query(
    `insert into telemetry (data_point_id, ts, value, quality)
     select p.id, now() - make_interval(secs => s), random() * 100, 0 from data_point p, generate_series(1, $1) s`,
    [READINGS_PER_POINT],
  );
  const config = parseConfig({
    NODE_ENV: "production",
    PORT: "0",
    DATABASE_URL: db.url,
    ...(RATE_STORE === "redis" ? { REDIS_URL: TEST_REDIS_URL } : {}),
    // Counted on every request, never reached: the benchmark measures the checking, not refusals.
    RATE_LIMIT_PER_MINUTE: "1000000",
  });
  const authenticator = createAuthenticator({ config, database: db.database, log });
  const deps = { config, database: db.database, pubsub: pubsub.pubsub, latest: new LatestValues(db.database, undefined), log, authenticator };
  const start = (security: "on" | "off") => startHttpServer({ config, deps, health: async () => ({}), log, security });
  const { key } = await createApiKey(db.database.db, { name: "bench", role: "viewer", sites: null, createdBy: "bench" });

  const secured: Target = { name: "secured", server: await start("on"), headers: { authorization: `Bearer ${key}` } };
  const open: Target = { name: "open", server: await start("off"), headers: {} };
  servers.push(secured.server, open.server);

  for (const target of [secured, open]) await drive(target, 1); // warm-up: JIT, pools, caches
  const rates = { secured: [] as number[], open: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [secured, open] : [open, secured];
    for (const target of order) rates[target.name as keyof typeof rates].push(await drive(target, SECONDS));
    console.error(`graphql round ${round + 1}/${ROUNDS}: secured ${Math.round(rates.secured.at(-1)!)} req/s, open ${Math.round(rates.open.at(-1)!)} req/s`);
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const value = mean(rates.secured);
  const baseline = mean(rates.open);
  console.error(
    `graphql: ${CONCURRENCY} keep-alive clients, ${ROUNDS} rounds of ${SECONDS} s each; secured (API key, limits, ${RATE_STORE} rate limiter) ` +
      `${Math.round(value)} req/s vs open ${Math.round(baseline)} req/s`,
  );
  console.log(
    JSON.stringify({
      bench: "graphql",
      value: Math.round(value),
      unit: "requests/s",
      baseline: Math.round(baseline),
      baseline_name: "same server, auth and limits off",
      ratio: ratio(value, baseline),
    }),
  );
} finally {
  await Promise.all(servers.map((s) => s.close()));
  await pubsub.close();
  await db.drop();
}
