import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { oneMachinePath, oneMachinePlant } from "../support/plant.js";
import {
  connectPublisher,
  publishWindowed,
  sleep,
  spawnHub,
  waitUntil,
  type HubProcess,
  type OutgoingMessage,
} from "../support/hub-process.js";
import { startPrivateMosquitto, type PrivateMosquitto } from "../support/mosquitto.js";

/**
 * The at-least-once promise, tested the hard way: the hub is a real process, killed with SIGKILL
 * in the middle of a QoS 1 stream, and restarted with the same client id. Every message the
 * broker acknowledged to the publisher must end up in the table exactly once: what the dead hub
 * had received but not committed is redelivered from its persistent session, and what it had
 * committed but not yet acknowledged is redelivered too and deduplicated by (data_point_id, ts).
 */

const READINGS = 10_000;
const KILL_AT_ROWS = 1_500;
const WINDOW = 50;
/** Paced so the kill reliably lands mid-stream; 10,000 readings still take only ~4 s. */
const MAX_PER_SECOND = 2_500;

const suffix = randomBytes(4).toString("hex");
const enterprise = `crash-${suffix}`;
const machinePath = oneMachinePath(enterprise, "press-1");
const topic = `${machinePath}/temperature`;

const plantYaml = oneMachinePlant(enterprise, "press-1", [{ name: "temperature", unit: "degC", dataType: "float", mqtt: { topic } }]);

describe("ingest survives kill -9", () => {
  let testDb: TestDatabase | undefined;
  let broker: PrivateMosquitto | undefined;
  let tmpDir: string | undefined;
  let publisher: MqttClient | undefined;
  const hubs: HubProcess[] = [];
  let hubEnv: Record<string, string>;

  beforeAll(async () => {
    testDb = await createTestDatabase("ingest_crash");
    broker = await startPrivateMosquitto();
    tmpDir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-crash-"));
    const plantFile = path.join(tmpDir, "plant.yaml");
    await writeFile(plantFile, plantYaml);
    hubEnv = {
      DATABASE_URL: testDb.url,
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: `crash-hub-${suffix}`,
      PLANT_FILE: plantFile,
      SIMULATOR: "false",
      LOG_LEVEL: "info",
      PORT: "0",
    };
  });

  afterAll(async () => {
    // Each step runs even if an earlier one fails.
    const steps: (() => Promise<unknown> | undefined)[] = [
      ...hubs.map((hub) => () => hub.kill("SIGKILL")),
      () => publisher?.endAsync(true),
      () => broker?.stop(),
      () => testDb?.drop(),
      () => (tmpDir ? rm(tmpDir, { recursive: true, force: true }) : undefined),
    ];
    const results = await Promise.allSettled(steps.map(async (step) => step()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0) throw new AggregateError(failed.map((f) => f.reason as unknown), "cleanup failed");
  });

  function startHub(): HubProcess {
    const hub = spawnHub({ roles: "ingest", env: hubEnv });
    hubs.push(hub);
    return hub;
  }

  async function pointId(): Promise<number> {
    const { rows } = await testDb!.database.query<{ id: number }>(
      "select dp.id from data_point dp join machine m on m.id = dp.machine_id where dp.name = 'temperature'",
    );
    expect(rows).toHaveLength(1);
    return rows[0]!.id;
  }

  async function storedRows(dataPointId: number): Promise<number> {
    const { rows } = await testDb!.database.query<{ n: number }>(
      "select count(*)::int as n from telemetry where data_point_id = $1",
      [dataPointId],
    );
    return rows[0]!.n;
  }

  it("stores every acknowledged QoS 1 reading exactly once across a SIGKILL and restart", { timeout: 120_000 }, async () => {
    const first = startHub();
    await first.waitForLog("mqtt subscribed");
    const dataPointId = await pointId();

    publisher = await connectPublisher(broker!.url, `crash-pub-${suffix}`);
    const base = Date.now() - 3_600_000; // an hour ago: well within the hub's clock-skew limit
    const messages: OutgoingMessage[] = Array.from({ length: READINGS }, (_, i) => ({
      topic,
      payload: JSON.stringify({ value: i, ts: base + i }),
    }));
    const publishing = publishWindowed(publisher, messages, { window: WINDOW, maxPerSecond: MAX_PER_SECOND });
    publishing.finished.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile

    await waitUntil(async () => (await storedRows(dataPointId)) >= KILL_AT_ROWS, {
      timeoutMs: 30_000,
      intervalMs: 10,
      describe: async () => `only ${await storedRows(dataPointId)} rows; hub output:\n${first.tail()}`,
    });
    await first.kill("SIGKILL");
    const atKill = { rows: await storedRows(dataPointId), sent: publishing.progress.sent, done: publishing.progress.done };
    expect(first.child.signalCode).toBe("SIGKILL");
    expect(atKill.rows).toBeLessThan(READINGS);
    expect(atKill.done).toBe(false);
    expect(atKill.sent).toBeLessThan(READINGS);

    // Same client id: the broker kept the session (and queued for it) while the hub was dead.
    const second = startHub();
    const connected = await second.waitForLog("mqtt connected");
    expect(connected.sessionPresent).toBe(true);
    await second.waitForLog("mqtt subscribed");

    const published = await publishing.finished;
    expect(published.errors).toEqual([]);
    expect(published.acked).toBe(READINGS);
    // An offline persistent session still counts as a subscriber: nothing was published into the void.
    expect(published.noSubscribers).toBe(0);

    await waitUntil(async () => (await storedRows(dataPointId)) >= READINGS, {
      timeoutMs: 45_000,
      intervalMs: 50,
      describe: async () =>
        `${await storedRows(dataPointId)} of ${READINGS} rows (${atKill.rows} at the kill); hub output:\n${second.tail()}`,
    });
    await sleep(300); // anything still arriving would show up as an excess row below

    const { rows } = await testDb!.database.query<{
      n: number;
      distinct_ts: number;
      distinct_values: number;
      min_value: number;
      max_value: number;
      sum_value: number;
      non_integers: number;
      ts_matches_value: number;
    }>(
      `select count(*)::int as n,
              count(distinct ts)::int as distinct_ts,
              count(distinct value)::int as distinct_values,
              min(value) as min_value,
              max(value) as max_value,
              sum(value) as sum_value,
              count(*) filter (where value <> floor(value))::int as non_integers,
              count(*) filter (where (extract(epoch from ts) * 1000)::bigint = $2::bigint + value::bigint)::int as ts_matches_value
       from telemetry where data_point_id = $1`,
      [dataPointId, base],
    );
    const stats = rows[0]!;
    expect(stats.n).toBe(READINGS);
    expect(stats.distinct_ts).toBe(READINGS);
    // 10,000 distinct whole numbers between 0 and 9999: exactly the set 0..9999.
    expect(stats.non_integers).toBe(0);
    expect(stats.distinct_values).toBe(READINGS);
    expect(Number(stats.min_value)).toBe(0);
    expect(Number(stats.max_value)).toBe(READINGS - 1);
    expect(Number(stats.sum_value)).toBe((READINGS * (READINGS - 1)) / 2);
    // Each value sits at its own timestamp: no reading was stored under another's ts.
    expect(stats.ts_matches_value).toBe(READINGS);

    const { rows: others } = await testDb!.database.query<{ n: number }>(
      "select (select count(*) from telemetry where data_point_id <> $1)::int + (select count(*) from quarantine)::int as n",
      [dataPointId],
    );
    expect(others[0]!.n).toBe(0);
  });
});
