import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { startHub, type Hub } from "../../src/hub.js";
import { capturingLogger, type LogLine } from "../support/logger.js";
import type { QuarantineReason } from "../../src/telemetry/sample.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { oneMachinePath, oneMachinePlant } from "../support/plant.js";
import { connectPublisher, publishWindowed, sleep, waitUntil, type OutgoingMessage } from "../support/hub-process.js";
import { TEST_MQTT_URL } from "../support/services.js";

/**
 * 10,000 good readings with 1,000 bad messages mixed in at random positions, through the real
 * broker into an in-process hub. Every good reading is stored, every bad message (or bad field)
 * is quarantined with its reason, nothing else is written, and the hub stays healthy.
 */

const suffix = randomBytes(4).toString("hex");
const enterprise = `badin-${suffix}`;
const machinePath = oneMachinePath(enterprise, "mixer-1");
const temperatureTopic = `${machinePath}/temperature`;
const statusTopic = `${machinePath}/status`;
const unboundTopic = `${machinePath}/vibration`;

const plantYaml = oneMachinePlant(enterprise, "mixer-1", [
  { name: "temperature", dataType: "float", mqtt: { topic: temperatureTopic } },
  { name: "count", dataType: "integer", mqtt: { topic: statusTopic, field: "count" } },
  { name: "running", dataType: "boolean", mqtt: { topic: statusTopic, field: "running" } },
]);

/** Each kind of bad message, 125 of each: 1,000 messages, one quarantine row each. */
const BAD_PER_KIND = 125;
/** Good messages: 5,625 temperature + 2 × 2,000 status + 375 good fields beside bad ones = 10,000. */
const GOOD_TEMPERATURE_MESSAGES = 5_625;
const GOOD_STATUS_MESSAGES = 2_000;
const GOOD_READINGS = 10_000;
const QUARANTINED = 1_000;

const expectedPerPoint = {
  temperature: GOOD_TEMPERATURE_MESSAGES,
  count: GOOD_STATUS_MESSAGES + 2 * BAD_PER_KIND, // beside a boolean of 2, and beside a missing "running"
  running: GOOD_STATUS_MESSAGES + BAD_PER_KIND, // beside an integer of 3.5
};

const expectedPerReason: Record<QuarantineReason, number> = {
  malformed_payload: 2 * BAD_PER_KIND, // not JSON, a JSON array
  wrong_type: 3 * BAD_PER_KIND, // a string float, 3.5 as integer, 2 as boolean
  missing_value: BAD_PER_KIND,
  bad_timestamp: BAD_PER_KIND,
  unknown_topic: BAD_PER_KIND,
  unknown_metric: 0, // a Sparkplug reason: this file speaks plain MQTT
};

/** Reproducible shuffles; the seed is in the test name so a failure can be replayed. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function buildMessages(seed: number, now: number): OutgoingMessage[] {
  const base = now - 3_600_000;
  let seq = 0;
  /** A fresh timestamp per message, so no reading collides with another on (data_point_id, ts). */
  const ts = () => base + seq++;
  const json = (value: unknown) => JSON.stringify(value);

  const good: (() => OutgoingMessage)[] = [];
  for (let i = 0; i < GOOD_TEMPERATURE_MESSAGES; i++) {
    good.push(() => ({ topic: temperatureTopic, payload: json({ value: 20 + i / 8 + 0.01, ts: ts() }) }));
  }
  for (let i = 0; i < GOOD_STATUS_MESSAGES; i++) {
    good.push(() => ({ topic: statusTopic, payload: json({ count: i, running: i % 2 === 0, ts: ts() }) }));
  }
  const badKinds: (() => OutgoingMessage)[] = [
    () => ({ topic: temperatureTopic, payload: `{"value": 21.5, "ts": ${ts()}` }), // not JSON
    () => ({ topic: temperatureTopic, payload: json([21.5, ts()]) }), // a JSON array
    () => ({ topic: temperatureTopic, payload: json({ value: "21.5", ts: ts() }) }), // a string for the float
    () => ({ topic: statusTopic, payload: json({ count: 3.5, running: true, ts: ts() }) }), // 3.5 for the integer
    () => ({ topic: statusTopic, payload: json({ count: 7, running: 2, ts: ts() }) }), // 2 for the boolean
    () => ({ topic: statusTopic, payload: json({ count: 8, ts: ts() }) }), // "running" missing
    () => ({ topic: temperatureTopic, payload: json({ value: 21.5, ts: now + 2 * 86_400_000 + seq++ }) }), // 2 days ahead
    () => ({ topic: unboundTopic, payload: json({ value: 0.3, ts: ts() }) }), // bound to no point
  ];
  const bad = badKinds.flatMap((make) => Array.from({ length: BAD_PER_KIND }, () => make));

  const all = [...good, ...bad];
  const random = mulberry32(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.map((make) => make());
}


const SEED = Number.parseInt(process.env.BAD_INPUT_SEED ?? "", 10) || Math.floor(Math.random() * 2 ** 31);

describe("ingest with bad input mixed in", () => {
  let testDb: TestDatabase | undefined;
  let tmpDir: string | undefined;
  let hub: Hub | undefined;
  let publisher: MqttClient | undefined;
  let logLines: LogLine[];
  let key: string;

  beforeAll(async () => {
    testDb = await createTestDatabase("ingest_bad_input");
    tmpDir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-bad-input-"));
    const plantFile = path.join(tmpDir, "plant.yaml");
    await writeFile(plantFile, plantYaml);
    const { log, lines } = capturingLogger();
    logLines = lines;
    hub = await startHub({
      config: parseConfig({
        NODE_ENV: "test",
        DATABASE_URL: testDb.url,
        MQTT_URL: TEST_MQTT_URL,
        MQTT_CLIENT_ID: `bad-input-hub-${suffix}`,
        // The shared broker need not keep this run's session for a day after the hub stops.
        MQTT_SESSION_EXPIRY_SECONDS: "10",
        PORT: "0",
        SIMULATOR: "false",
        PLANT_FILE: plantFile,
      }),
      roles: ["ingest", "api"],
      log,
    });
    ({ key } = await createApiKey(testDb.database.db, { name: "bad-input", role: "technician", sites: null, createdBy: "test" }));
  });

  afterAll(async () => {
    const results = await Promise.allSettled([
      (async () => {
        await publisher?.endAsync(true);
        await hub?.stop();
        await testDb?.drop();
      })(),
      tmpDir ? rm(tmpDir, { recursive: true, force: true }) : Promise.resolve(),
    ]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0) throw new AggregateError(failed.map((f) => f.reason as unknown), "cleanup failed");
  });

  async function count(sql: string): Promise<number> {
    const { rows } = await testDb!.database.query<{ n: number }>(sql);
    return rows[0]!.n;
  }
  const telemetryRows = () => count("select count(*)::int as n from telemetry");
  const quarantineRows = () => count("select count(*)::int as n from quarantine");

  async function graphql<T>(query: string): Promise<T> {
    const response = await fetch(new URL("/graphql", hub!.graphqlUrl), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data!;
  }

  it(`stores 10,000 good readings and quarantines 1,000 bad ones (seed ${SEED})`, { timeout: 120_000 }, async () => {
    await waitUntil(() => logLines.some((l) => l.msg === "mqtt subscribed"), {
      timeoutMs: 10_000,
      describe: () => `hub never subscribed; it logged: ${logLines.map((l) => l.msg).join(" | ")}`,
    });

    const messages = buildMessages(SEED, Date.now());
    expect(messages).toHaveLength(GOOD_TEMPERATURE_MESSAGES + GOOD_STATUS_MESSAGES + 8 * BAD_PER_KIND);
    publisher = await connectPublisher(TEST_MQTT_URL, `bad-input-pub-${suffix}`);
    const published = await publishWindowed(publisher, messages, { window: 50 }).finished;
    expect(published.errors).toEqual([]);
    expect(published.acked).toBe(messages.length);
    expect(published.noSubscribers).toBe(0);

    await waitUntil(async () => (await telemetryRows()) >= GOOD_READINGS && (await quarantineRows()) >= QUARANTINED, {
      timeoutMs: 30_000,
      describe: async () => `${await telemetryRows()} telemetry rows, ${await quarantineRows()} quarantine rows`,
    });
    await sleep(300); // a late excess row would show below

    // Telemetry: exactly the good readings, each point's own count, every ts distinct per point.
    const { rows: perPoint } = await testDb!.database.query<{ name: string; n: number; distinct_ts: number }>(
      `select dp.name, count(t.ts)::int as n, count(distinct t.ts)::int as distinct_ts
       from data_point dp left join telemetry t on t.data_point_id = dp.id
       group by dp.name order by dp.name`,
    );
    expect(await telemetryRows()).toBe(GOOD_READINGS);
    expect(Object.fromEntries(perPoint.map((p) => [p.name, p.n]))).toEqual(expectedPerPoint);
    expect(perPoint.every((p) => p.distinct_ts === p.n)).toBe(true);
    // Booleans are stored as 0/1, integers as whole numbers.
    expect(
      await count(
        `select count(*)::int as n from telemetry t join data_point dp on dp.id = t.data_point_id
         where (dp.name = 'running' and t.value not in (0, 1)) or (dp.name = 'count' and t.value <> floor(t.value))`,
      ),
    ).toBe(0);

    // Quarantine: one row per bad message or bad field, by reason and topic.
    expect(await quarantineRows()).toBe(QUARANTINED);
    const { rows: breakdown } = await testDb!.database.query<{ reason: string; topic: string; n: number }>(
      "select reason, topic, count(*)::int as n from quarantine group by reason, topic order by reason, topic",
    );
    expect(breakdown).toEqual(
      [
        { reason: "bad_timestamp", topic: temperatureTopic, n: BAD_PER_KIND },
        { reason: "malformed_payload", topic: temperatureTopic, n: 2 * BAD_PER_KIND },
        { reason: "missing_value", topic: statusTopic, n: BAD_PER_KIND },
        { reason: "unknown_topic", topic: unboundTopic, n: BAD_PER_KIND },
        { reason: "wrong_type", topic: statusTopic, n: 2 * BAD_PER_KIND },
        { reason: "wrong_type", topic: temperatureTopic, n: BAD_PER_KIND },
      ].sort((a, b) => a.reason.localeCompare(b.reason) || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0)),
    );

    // The same over GraphQL.
    const data = await graphql<{
      quarantine: { totalCount: number; edges: { node: { reason: string; topic: string; detail: string } }[] };
      quarantineSummary: { reason: string; count: number }[];
    }>(`{
      quarantine(first: 5) { totalCount edges { node { reason topic detail } } }
      quarantineSummary { reason count }
    }`);
    expect(data.quarantine.totalCount).toBe(QUARANTINED);
    expect(data.quarantine.edges).toHaveLength(5);
    const reasonNames = Object.keys(expectedPerReason).map((r) => r.toUpperCase());
    for (const { node } of data.quarantine.edges) {
      expect(reasonNames).toContain(node.reason);
      expect([temperatureTopic, statusTopic, unboundTopic]).toContain(node.topic);
      expect(node.detail.length).toBeGreaterThan(0);
    }
    expect(Object.fromEntries(data.quarantineSummary.map((s) => [s.reason, s.count]))).toEqual(
      Object.fromEntries(Object.entries(expectedPerReason).filter(([, n]) => n > 0).map(([reason, n]) => [reason.toUpperCase(), n])),
    );

    // Every quarantined message is reachable page by page, each exactly once, newest first.
    type Page = { quarantine: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const seen: number[] = [];
    for (let after: string | null = null, pages = 0; pages < 10; pages++) {
      const page: Page = await graphql<Page>(
        `{ quarantine(first: 200${after ? `, after: ${JSON.stringify(after)}` : ""}) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
      );
      seen.push(...page.quarantine.edges.map((e) => Number(e.node.id)));
      if (!page.quarantine.pageInfo.hasNextPage) break;
      after = page.quarantine.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(QUARANTINED);
    expect(new Set(seen).size).toBe(QUARANTINED);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));

    // Still alive and ready after all that.
    const healthz = await fetch(new URL("/healthz", hub!.graphqlUrl));
    expect(healthz.status).toBe(200);
    const readyz = await fetch(new URL("/readyz", hub!.graphqlUrl));
    expect(readyz.status, JSON.stringify(await readyz.clone().json())).toBe(200);
  });
});
