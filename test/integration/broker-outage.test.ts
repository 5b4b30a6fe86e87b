import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createLogger } from "../../src/log/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { connectPublisher, waitUntil } from "../support/hub-process.js";
import { startPrivateMosquitto, type PrivateMosquitto } from "../support/mosquitto.js";
import { oneMachinePath, oneMachinePlant } from "../support/plant.js";

/**
 * The broker goes away under a running hub: readiness says so, what was stored stays stored,
 * and when the broker is back (without our session: it keeps nothing on disk) the hub
 * subscribes again and readings flow.
 */
describe("a broker outage", () => {
  const enterprise = `outage-${randomBytes(3).toString("hex")}`;
  const topic = `${oneMachinePath(enterprise, "press-1")}/temperature`;
  let testDb: TestDatabase;
  let broker: PrivateMosquitto;
  let hub: Hub;
  let dir: string;

  const stored = async () =>
    (await testDb.database.query<{ n: number }>("select count(*)::int as n from telemetry")).rows[0]!.n;
  const readiness = async () => {
    const response = await fetch(new URL("/readyz", hub.graphqlUrl));
    return { status: response.status, body: (await response.json()) as { checks: Record<string, { ok: boolean; detail?: string }> } };
  };

  async function publish(values: number[]): Promise<void> {
    const client = await connectPublisher(broker.url, `outage-publisher-${randomBytes(3).toString("hex")}`);
    for (const value of values) await client.publishAsync(topic, JSON.stringify({ value, ts: Date.now() - 1_000 + value }), { qos: 1 });
    await client.endAsync();
  }

  beforeAll(async () => {
    testDb = await createTestDatabase("broker_outage");
    broker = await startPrivateMosquitto();
    dir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-outage-"));
    const plantFile = path.join(dir, "plant.yaml");
    await writeFile(plantFile, oneMachinePlant(enterprise, "press-1", [{ name: "temperature" }]));
    const config = parseConfig({
      NODE_ENV: "test",
      DATABASE_URL: testDb.url,
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: `${enterprise}-hub`,
      PLANT_FILE: plantFile,
      PORT: "0",
      SIMULATOR: "false",
      LOG_LEVEL: "silent",
    });
    hub = await startHub({ config, roles: ["ingest", "api"], log: createLogger(process.env.OUTAGE_LOG ?? "silent") });
  });

  afterAll(async () => {
    await hub?.stop();
    await broker?.stop();
    await testDb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reports not ready while the broker is away, keeps what it stored, and resumes after", async () => {
    await publish([1, 2, 3]);
    await waitUntil(async () => (await stored()) === 3, { timeoutMs: 10_000, describe: () => "three readings before the outage" });
    expect((await readiness()).status).toBe(200);

    const port = broker.port;
    await broker.stop();
    await waitUntil(async () => (await readiness()).status === 503, { timeoutMs: 10_000, describe: () => "readiness to notice the outage" });
    const during = await readiness();
    expect(during.body.checks.mqtt?.ok).toBe(false);
    expect(during.body.checks.database?.ok).toBe(true);
    expect(await stored()).toBe(3);

    broker = await startPrivateMosquitto({ port });
    await waitUntil(async () => (await readiness()).status === 200, { timeoutMs: 15_000, describe: () => "the hub to reconnect and subscribe again" });
    await publish([4, 5]);
    await waitUntil(async () => (await stored()) === 5, { timeoutMs: 10_000, describe: () => "readings after the outage" });
    const { rows } = await testDb.database.query<{ value: number }>("select value from telemetry order by value");
    expect(rows.map((r) => r.value)).toEqual([1, 2, 3, 4, 5]);
  }, 60_000);
});
