import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { createLogger } from "../../src/log/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { eventually, firstResults, graphql, wsClient } from "../support/graphql.js";
import { TEST_MQTT_URL, TEST_REDIS_URL } from "../support/services.js";

/**
 * The whole path across two replicas sharing PostgreSQL, Redis and Mosquitto: an ingest-only hub
 * stores what a machine publishes; an api-only hub answers queries and pushes subscriptions, and
 * its asset mutations reach the ingest replica through the Redis pubsub.
 */

const enterprise = `e2e${randomBytes(4).toString("hex")}`;
const machinePath = `${enterprise}/site-a/area-1/line-1/sealer-1`;

const plant = `
enterprise: ${enterprise}
sites:
  - name: site-a
    areas:
      - name: area-1
        lines:
          - name: line-1
            machines:
              - name: sealer-1
                displayName: Sealer 1
                dataPoints:
                  - name: temperature
                    unit: "°C"
                    normalRange: { min: 20, max: 80 }
                  - name: speed
                    unit: parts/min
                    mqtt: { topic: ${machinePath}/telemetry, field: speed }
                  - name: parts
                    dataType: integer
                    mqtt: { topic: ${machinePath}/telemetry, field: parts }
              - name: sealer-2
`;

describe("plantgraph end to end (ingest replica + api replica)", () => {
  let testDb: TestDatabase;
  let dir: string;
  let ingestHub: Hub;
  let apiHub: Hub;
  let endpoint: string;
  let machine: MqttClient;
  let machineId: string;
  let key: string;
  /** Every request of these tests as an engineer of the plant's site. */
  const query = (text: string, variables: Record<string, unknown> = {}) => graphql(endpoint, text, variables, key);

  const hubConfig = (env: Record<string, string>) =>
    parseConfig({
      NODE_ENV: "test",
      DATABASE_URL: testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      MQTT_URL: TEST_MQTT_URL,
      MQTT_CLIENT_ID: `${enterprise}-ingest`,
      PORT: "0",
      SIMULATOR: "false",
      LOG_LEVEL: "silent",
      ...env,
    });

  beforeAll(async () => {
    testDb = await createTestDatabase("e2e");
    dir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-e2e-"));
    const plantFile = path.join(dir, "plant.yaml");
    await writeFile(plantFile, plant);
    const log = createLogger("silent");
    ingestHub = await startHub({ config: hubConfig({ PLANT_FILE: plantFile }), roles: ["ingest"], log });
    apiHub = await startHub({ config: hubConfig({}), roles: ["api"], log });
    endpoint = apiHub.graphqlUrl!;
    ({ key } = await createApiKey(testDb.database.db, { name: "e2e", role: "engineer", sites: [`${enterprise}/site-a`], createdBy: "test" }));
    machine = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `${enterprise}-machine` });
    const found = await query(`{ machines(filter: { path: "${machinePath}" }) { edges { node { id } } } }`);
    machineId = found.data!.machines.edges[0].node.id;
  });

  afterAll(async () => {
    await machine?.endAsync();
    await apiHub?.stop();
    await ingestHub?.stop();
    await testDb?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("the api replica does not ingest and the ingest replica serves no HTTP", () => {
    expect(apiHub.ingest).toBeUndefined();
    expect(ingestHub.graphqlUrl).toBeUndefined();
  });

  it("stores a published reading and serves it as the latest value", async () => {
    const ts = new Date(Date.now() - 1_000).toISOString();
    await machine.publishAsync(`${machinePath}/temperature`, JSON.stringify({ value: 71.3, ts }), { qos: 1 });
    const latest = await eventually(async () => {
      const result = await query(`query($id: ID!) { machine(id: $id) { metric(name: "temperature") { latest { value ts quality } } } }`, { id: machineId });
      return result.data?.machine.metric.latest ?? undefined;
    }, "the reading to be stored");
    expect(latest).toEqual({ value: 71.3, ts, quality: "GOOD" });
  });

  it("maps several metrics of one object by field and answers raw and bucketed series", async () => {
    const base = Math.floor(Date.now() / 60_000) * 60_000 - 120_000; // two whole minutes ago
    for (const [offset, speed, parts] of [[0, 100, 10], [20_000, 110, 11], [70_000, 90, 12]] as const) {
      await machine.publishAsync(`${machinePath}/telemetry`, JSON.stringify({ ts: base + offset, speed, parts }), { qos: 1 });
    }
    const seriesQuery = `query($id: ID!, $from: DateTime!, $to: DateTime!) { machine(id: $id) {
      speed: metric(name: "speed") { raw: series(from: $from, to: $to) { ts value } perMinute: series(from: $from, to: $to, bucket: "PT1M") { ts value min max count } }
      parts: metric(name: "parts") { latest { value } } } }`;
    const variables = { id: machineId, from: new Date(base).toISOString(), to: new Date(base + 120_000).toISOString() };
    const result = await eventually(async () => {
      const r = await query(seriesQuery, variables);
      return r.data?.machine.speed.raw.length === 3 ? r.data.machine : undefined;
    }, "three speed readings");
    expect(result.speed.raw.map((p: { value: number }) => p.value)).toEqual([100, 110, 90]);
    expect(result.speed.perMinute).toEqual([
      { ts: new Date(base).toISOString(), value: 105, min: 100, max: 110, count: 2 },
      { ts: new Date(base + 60_000).toISOString(), value: 90, min: 90, max: 90, count: 1 },
    ]);
    expect(result.parts.latest.value).toBe(12);
  });

  it("pushes readings to a WebSocket subscriber of the api replica through Redis", async () => {
    const client = wsClient(endpoint, { authorization: `Bearer ${key}` });
    try {
      const received = firstResults(
        client,
        `subscription($id: ID!) { readingAdded(machineId: $id, metric: "temperature") { machineId metric value quality } }`,
        1,
        { id: machineId },
      );
      // The subscription is registered asynchronously: publish until one arrives.
      let value = 50;
      const publisher = setInterval(() => {
        void machine.publishAsync(`${machinePath}/temperature`, JSON.stringify({ value: value++ }), { qos: 1 });
      }, 100);
      const [result] = (await received.finally(() => clearInterval(publisher))) as [{ data: { readingAdded: Record<string, unknown> } }];
      expect(result.data.readingAdded).toMatchObject({ machineId, metric: "temperature", quality: "GOOD" });
      expect(result.data.readingAdded.value).toBeGreaterThanOrEqual(50);
    } finally {
      await client.dispose();
    }
  });

  it("pages machines with cursors and re-fetches them by node id", async () => {
    const first = await query(`{ machines(first: 1, filter: { path: "${enterprise}" }) { totalCount edges { cursor node { id path } } pageInfo { hasNextPage endCursor } } }`);
    expect(first.data!.machines.totalCount).toBe(2);
    expect(first.data!.machines.pageInfo.hasNextPage).toBe(true);
    const second = await query(`query($after: String) { machines(first: 1, after: $after, filter: { path: "${enterprise}" }) { edges { node { id path } } pageInfo { hasNextPage hasPreviousPage } } }`, {
      after: first.data!.machines.pageInfo.endCursor,
    });
    expect(second.data!.machines.edges[0].node.path).toBe(`${enterprise}/site-a/area-1/line-1/sealer-2`);
    expect(second.data!.machines.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
    const node = await query(`query($id: ID!) { node(id: $id) { __typename ... on Machine { path displayName line { name area { site { name timezone } } } } } }`, { id: machineId });
    expect(node.data!.node).toEqual({
      __typename: "Machine",
      path: machinePath,
      displayName: "Sealer 1",
      line: { name: "line-1", area: { site: { name: "site-a", timezone: "UTC" } } },
    });
  });

  it("binds a data point created over GraphQL on the ingest replica, and quarantines after deleting it", async () => {
    const created = await query(
      `mutation($input: UpsertDataPointInput!) { upsertDataPoint(input: $input) { dataPoint { id name mqtt { topic field } } errors { field message } } }`,
      { input: { machineId, name: "pressure", unit: "bar" } },
    );
    expect(created.data!.upsertDataPoint.errors).toEqual([]);
    const point = created.data!.upsertDataPoint.dataPoint;
    expect(point.mqtt).toEqual({ topic: `${machinePath}/pressure`, field: null });

    const stored = await eventually(async () => {
      await machine.publishAsync(`${machinePath}/pressure`, "4.2", { qos: 1 });
      const r = await query(`query($id: ID!) { node(id: $id) { ... on DataPoint { latest { value } } } }`, { id: point.id });
      return r.data?.node.latest ?? undefined;
    }, "the new binding to reach the ingest replica");
    expect(stored).toEqual({ value: 4.2 });

    const deleted = await query(`mutation($id: ID!) { deleteDataPoint(id: $id) { deletedId errors { message } } }`, { id: point.id });
    expect(deleted.data!.deleteDataPoint).toEqual({ deletedId: point.id, errors: [] });
    const quarantined = await eventually(async () => {
      await machine.publishAsync(`${machinePath}/pressure`, "4.3", { qos: 1 });
      // Late copies of 4.2, published while waiting for the binding, may be quarantined too.
      const r = await query(`{ quarantine(first: 50, reason: UNKNOWN_TOPIC, topic: "${machinePath}/pressure") { edges { node { payload detail json } } } }`);
      return r.data?.quarantine.edges.map((e: { node: { json: unknown } }) => e.node).find((n: { json: unknown }) => n.json === 4.3);
    }, "a reading on the deleted point's topic to be quarantined");
    expect(quarantined.detail).toContain("no data point is bound");
    expect(quarantined.json).toBe(4.3);
  });

  it("returns invalid mutation input as errors with field paths, and bad arguments as GraphQL errors", async () => {
    const invalid = await query(
      `mutation { upsertMachine(input: { enterprise: "${enterprise}", site: "site a", area: "x", line: "y", name: "ok", siteTimezone: "Mars/Olympus" }) { machine { id } errors { field message } } }`,
    );
    expect(invalid.data!.upsertMachine.machine).toBeNull();
    expect(invalid.data!.upsertMachine.errors.map((e: { field: string[] }) => e.field)).toEqual([["input", "site"], ["input", "siteTimezone"]]);

    const unknown = await query(`mutation { deleteMachine(id: "TWFjaGluZTo5OTk5OTk=") { deletedId errors { field message } } }`);
    expect(unknown.data!.deleteMachine).toEqual({ deletedId: null, errors: [{ field: ["id"], message: "no machine has this id" }] });

    const badBucket = await query(`query($id: ID!) { machine(id: $id) { metric(name: "speed") { series(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", bucket: "P1M") { value } } } }`, { id: machineId });
    expect(badBucket.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(badBucket.errors?.[0]?.message).toContain("bucket");
  });
});
