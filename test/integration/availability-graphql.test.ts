import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { dataPointsByMachine, machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { StateTracker } from "../../src/availability/state.tracker.js";
import { Bus } from "../../src/bus/bus.js";
import { parseConfig } from "../../src/config.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createLogger } from "../../src/log/logger.js";
import { createHubPubSub, type PubSubHandle } from "../../src/pubsub/pubsub.js";
import { samplesAt } from "../support/availability.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { firstResults, graphql, wsClient } from "../support/graphql.js";
import { TEST_REDIS_URL } from "../support/services.js";

/**
 * Availability, KPIs, calendars, orders and capacity over the real GraphQL server, with the state
 * tracker fed in-process (its MACHINE_STATE_CHANGED crosses Redis to the api). Berlin lies inside
 * the planner's and operator's sites, Paris outside.
 */

const enterprise = `av${randomBytes(3).toString("hex")}`;
const machineOf = (site: string) => ({
  name: site,
  areas: [{ name: "hall", lines: [{ name: "line-1", machines: [{ name: "cutter", dataPoints: [{ name: "speed" }, { name: "parts", dataType: "integer" }], state: { idealCycleSeconds: 10, products: { blade: 10 } } }] }] }],
});
const plant = stringify({ enterprise, sites: [machineOf("berlin"), machineOf("paris")] });
const path = (site: string) => `${enterprise}/${site}/hall/line-1/cutter`;
const MINUTE = 60_000;

describe("availability over GraphQL", () => {
  let testDb: TestDatabase;
  let hub: Hub;
  let endpoint: string;
  let pubsub: PubSubHandle;
  let tracker: StateTracker;
  const log = createLogger("silent");
  const keys = {} as Record<"admin" | "planner" | "operator" | "viewer", string>;
  const machines = {} as Record<"berlin" | "paris", number>;
  const lines = {} as Record<"berlin" | "paris", number>;
  const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 40 * MINUTE;

  async function data(key: keyof typeof keys, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const result = await graphql(endpoint, query, variables, keys[key]);
    expect(result.errors).toBeUndefined();
    return result.data!;
  }

  beforeAll(async () => {
    testDb = await createTestDatabase("availability_graphql");
    await applyPlantText(testDb.database, plant, "av.yaml", log);
    for (const site of ["berlin", "paris"] as const) {
      const row = (await machineByPath(testDb.database.db, path(site)))!;
      machines[site] = row.id;
      lines[site] = row.lineId;
    }
    for (const role of ["admin", "planner", "operator", "viewer"] as const) {
      keys[role] = (await createApiKey(testDb.database.db, { name: role, role, sites: role === "admin" ? null : [`${enterprise}/berlin`], createdBy: "test" })).key;
    }
    const config = parseConfig({ NODE_ENV: "test", DATABASE_URL: testDb.url, REDIS_URL: TEST_REDIS_URL, JOBS_PREFIX: `av${randomBytes(3).toString("hex")}`, PORT: "0", SIMULATOR: "false", LOG_LEVEL: "silent", RATE_LIMIT_PER_MINUTE: "100000" });
    hub = await startHub({ config, roles: ["api"], log });
    endpoint = hub.graphqlUrl!;
    pubsub = createHubPubSub(TEST_REDIS_URL, undefined, config.jobs.prefix);
    tracker = new StateTracker(testDb.database, new Bus(log), pubsub.pubsub, undefined, log, { offlineAfterMs: 3_600_000, timers: false });
    await tracker.start(t0);
  });

  afterAll(async () => {
    await tracker?.stop();
    await pubsub?.close();
    await hub?.stop();
    await testDb?.drop();
  });

  it("streams state changes, and serves state, intervals and KPIs of a visible machine only", async () => {
    const client = wsClient(endpoint, { authorization: `Bearer ${keys.viewer}` });
    const changes = firstResults(client, `subscription($m: ID) { machineStateChanged(machineId: $m) { state source startedAt } }`, 2, { m: globalId("Machine", machines.berlin) });
    await new Promise((r) => setTimeout(r, 300)); // the subscription reaches Redis
    const points = new Map((await dataPointsByMachine(testDb.database.db, [machines.berlin])).map((p) => [p.name, p.id]));
    // Running 20 minutes at 10 s a part, then idle.
    for (let t = t0, parts = 0; t <= t0 + 35 * MINUTE; t += 5 * MINUTE) {
      await tracker.samples(samplesAt(machines.berlin, points, t, { speed: t < t0 + 20 * MINUTE ? 100 : 0, parts }));
      if (t < t0 + 20 * MINUTE) parts += 30;
    }
    await tracker.flush();
    const results = (await changes) as { data: { machineStateChanged: { state: string; source: string } } }[];
    expect(results.map((r) => r.data.machineStateChanged.state)).toEqual(["RUNNING", "IDLE"]);
    await client.dispose();

    const id = globalId("Machine", machines.berlin);
    const from = new Date(t0).toISOString();
    const to = new Date(t0 + 35 * MINUTE).toISOString();
    const machine = await data("viewer", `query($id: ID!, $from: DateTime!, $to: DateTime!) { machine(id: $id) { state stateIntervals(from: $from, to: $to) { id state startedAt endedAt } } }`, { id, from, to });
    expect(machine.machine.state).toBe("IDLE");
    expect(machine.machine.stateIntervals.map((i: any) => i.state)).toEqual(["RUNNING", "IDLE"]);

    const KPIS = `query($a: ID!, $from: DateTime!, $to: DateTime!) { kpis(assetId: $a, from: $from, to: $to) { plannedBusyTime actualProductionTime availability effectiveness qualityRatio oee producedQuantity downtimeReasons { state reason seconds } } }`;
    const kpis = (await data("viewer", KPIS, { a: globalId("Line", lines.berlin), from, to })).kpis;
    expect(kpis).toEqual({ plannedBusyTime: 2_100, actualProductionTime: 1_200, availability: 1_200 / 2_100, effectiveness: 1, qualityRatio: 1, oee: 1_200 / 2_100, producedQuantity: 120, downtimeReasons: [] });
    expect((await data("viewer", KPIS, { a: globalId("Site", lines.paris), from, to })).kpis).toBeNull();
    const reversed = await graphql(endpoint, KPIS, { a: globalId("Line", lines.berlin), from: to, to: from }, keys.viewer);
    expect(reversed.errors?.[0]?.message).toBe("`to` must be after `from`");

    // An operator gives the idle stretch a reason; a viewer may not.
    const idle = machine.machine.stateIntervals[1].id;
    const SET = `mutation($i: ID!, $r: String!) { setDowntimeReason(intervalId: $i, reason: $r) { interval { reason } errors { field message } } }`;
    expect((await graphql(endpoint, SET, { i: idle, r: "no_material" }, keys.viewer)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await data("operator", SET, { i: idle, r: "No Material" })).setDowntimeReason.errors).toEqual([{ field: ["reason"], message: "expected a reason code: lower-case letters, digits and '_'" }]);
    expect((await data("operator", SET, { i: idle, r: "no_material" })).setDowntimeReason).toEqual({ interval: { reason: "no_material" }, errors: [] });

    // Inspection rejects 12 of the 120 parts made: the quality ratio follows.
    const QUALITY = `mutation($m: ID!, $at: DateTime) { recordScrap(machineId: $m, scrap: 12, at: $at) { scrap errors { field message } } }`;
    expect((await data("operator", QUALITY, { m: id, at: new Date(t0 + 10 * MINUTE).toISOString() })).recordScrap).toEqual({ scrap: 12, errors: [] });
    const after = (await data("viewer", KPIS, { a: globalId("Line", lines.berlin), from, to })).kpis;
    expect(after.qualityRatio).toBeCloseTo(108 / 120, 12);
    expect(after.downtimeReasons).toEqual([]);
  });

  it("saves shift calendars with clear errors, for sites and lines the planner may see", async () => {
    const SAVE = `mutation($a: ID!, $c: JSONObject!) { saveShiftCalendar(assetId: $a, calendar: $c) { calendar errors { field message } } }`;
    const bad = await data("planner", SAVE, { a: globalId("Line", lines.berlin), c: { shifts: [{ name: "early", start: "6:00", end: "14:00" }] } });
    expect(bad.saveShiftCalendar.errors).toEqual([{ field: ["calendar", "shifts", "0", "start"], message: 'expected a time of day "HH:MM"' }]);
    const outside = await data("planner", SAVE, { a: globalId("Line", lines.paris), c: {} });
    expect(outside.saveShiftCalendar.errors).toEqual([{ field: ["assetId"], message: "no site or line you can see has this id" }]);
    const calendar = { shifts: [{ name: "early", start: "06:00", end: "14:00", breaks: [{ start: "10:00", end: "10:30" }] }], holidays: ["2026-12-25"] };
    const saved = await data("planner", SAVE, { a: globalId("Line", lines.berlin), c: calendar });
    expect(saved.saveShiftCalendar.calendar.shifts[0].days).toEqual(["mon", "tue", "wed", "thu", "fri"]);
    const read = await data("viewer", `query($id: ID!) { node(id: $id) { ... on Line { shiftCalendar } } }`, { id: globalId("Line", lines.berlin) });
    expect(read.node.shiftCalendar.holidays).toEqual(["2026-12-25"]);
    // Back to around the clock, so the capacity below does not depend on the hour the test runs.
    await data("planner", SAVE, { a: globalId("Line", lines.berlin), c: {} });
  });

  it("imports orders from CSV (all or nothing), projects them and ranks machines for new work", async () => {
    const IMPORT = `mutation($csv: String!) { importProductionOrders(csv: $csv) { orders { number status machine { path } projectedCompletionAt atRisk } errors { field message } } }`;
    const due = new Date(Date.now() + 3 * 3_600_000).toISOString();
    const bad = await data("planner", IMPORT, { csv: `number,product,quantity,due,machine\nA-1,blade,100,${due},${path("berlin")}\nA-2,blade,-5,tomorrow,${path("paris")}\n` });
    expect(bad.importProductionOrders).toEqual({
      orders: [],
      errors: [
        { field: ["csv", "3", "quantity"], message: "expected a whole number above 0" },
        { field: ["csv", "3", "due"], message: "expected an ISO 8601 time with its offset, e.g. 2026-12-01T14:00:00+01:00" },
        { field: ["csv", "3", "machine"], message: `no machine at "${path("paris")}"` },
      ],
    });
    const good = await data("planner", IMPORT, { csv: `number,product,quantity,due,machine\nA-1,blade,100,${due},${path("berlin")}\n` });
    const [order] = good.importProductionOrders.orders;
    expect(order).toMatchObject({ number: "A-1", status: "PLANNED", machine: { path: path("berlin") }, atRisk: false });
    expect(order.projectedCompletionAt).not.toBeNull();
    expect((await graphql(endpoint, IMPORT, { csv: "number\n" }, keys.viewer)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    const paris = await data("admin", `query($a: ID!) { productionOrders(assetId: $a) { number } }`, { a: globalId("Line", lines.paris) });
    expect(paris.productionOrders).toEqual([]);
    const listed = await data("viewer", `query($a: ID!) { productionOrders(assetId: $a) { number product quantity progress } }`, { a: globalId("Line", lines.berlin) });
    expect(listed.productionOrders).toEqual([{ number: "A-1", product: "blade", quantity: 100, progress: 0 }]);

    const capacity = await data("viewer", `query($a: ID!) { capacity(assetId: $a, horizon: TODAY) { machines { machine { path } availableSeconds committedSeconds spareSeconds } committedSeconds } }`, { a: globalId("Line", lines.berlin) });
    const [cutter] = capacity.capacity.machines;
    expect(cutter.machine.path).toBe(path("berlin"));
    expect(cutter.spareSeconds).toBeCloseTo(cutter.availableSeconds - cutter.committedSeconds, 6);
    expect(cutter.committedSeconds).toBeGreaterThan(0);

    const suggestions = await data("viewer", `query($due: DateTime!) { suggestMachines(product: "blade", quantity: 50, due: $due) { rank canMeetDue machine { path } explanation } }`, { due });
    expect(suggestions.suggestMachines.map((s: any) => s.machine.path)).toEqual([path("berlin")]);
    expect(suggestions.suggestMachines[0].explanation).toMatch(/after 1 queued order; 50 × .* s \(actual\)/);
  });
});
