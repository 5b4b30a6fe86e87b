import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { dataPointsByMachine, machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { cycleTimes } from "../../src/availability/cycle-times.js";
import { stateConfigs } from "../../src/availability/state-config.service.js";
import { StateTracker } from "../../src/availability/state.tracker.js";
import { Bus } from "../../src/bus/bus.js";
import { createLogger } from "../../src/log/logger.js";
import { orderByNumber, upsertOrders } from "../../src/orders/order.service.js";
import { createHubPubSub } from "../../src/pubsub/pubsub.js";
import { samplesAt } from "../support/availability.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/**
 * A filler reports its job the PackML way: StateCurrent, the product id and a units-processed
 * count that restarts with each job. It makes cola (product 1, ideal 10 s) for an hour at 10 s a
 * unit, then water (product 2, ideal 5 s) for three hours at 6 s. The counts go to the product
 * the job names, not to the order at the head of the queue, and the cycle times per product follow.
 */

const filler = {
  name: "filler",
  dataPoints: [{ name: "state" }, { name: "product" }, { name: "processed", dataType: "integer" }],
  state: {
    sources: [{ point: "state", map: { "6": "running", "4": "idle" } }],
    job: { product: "product", products: { "1": "cola", "2": "water" }, unitsCompleted: "processed" },
    products: { cola: 10, water: 5 },
  },
};
const plant = stringify({ enterprise: "job", sites: [{ name: "plant", areas: [{ name: "hall", lines: [{ name: "line-1", machines: [filler] }] }] }] });
const T0 = Date.parse("2026-05-04T06:00:00Z");
const FIVE_MINUTES = 300_000;
/** Each report lands a second before its 5 minutes end, so an hour holds exactly its twelve. */
const at = (k: number) => T0 + k * FIVE_MINUTES - 1_000;

describe("cycle times per product from job signals", () => {
  let testDb: TestDatabase;
  let tracker: StateTracker;
  let machineId = 0;
  const log = createLogger("silent");

  beforeAll(async () => {
    testDb = await createTestDatabase("job_cycle_times");
    await applyPlantText(testDb.database, plant, "job.yaml", log);
    machineId = (await machineByPath(testDb.database.db, "job/plant/hall/line-1/filler"))!.id;
    const points = new Map((await dataPointsByMachine(testDb.database.db, [machineId])).map((p) => [p.name, p.id]));
    // Cola heads the queue; the water order waits behind it.
    await testDb.database.db.transaction((tx) =>
      upsertOrders(
        tx,
        [
          { number: "C-1", product: "cola", quantity: 100_000, dueAt: new Date(T0 + 86_400_000), machineId, sequence: 0 },
          { number: "W-1", product: "water", quantity: 1_000, dueAt: new Date(T0 + 86_400_000), machineId, sequence: 1 },
        ],
        "test",
      ),
    );
    tracker = new StateTracker(testDb.database, new Bus(log), createHubPubSub().pubsub, undefined, log, { offlineAfterMs: 600_000, timers: false });
    await tracker.start(at(0));
    const send = (ts: number, values: Record<string, number>) => tracker.samples(samplesAt(machineId, points, ts, values));
    await send(at(0), { state: 6, product: 1, processed: 0 });
    for (let k = 1; k <= 12; k++) await send(at(k), { state: 6, product: 1, processed: 30 * k });
    // The job changes: a new product, and the count starts again.
    await send(at(12) + 500, { state: 6, product: 2, processed: 0 });
    for (let k = 13; k <= 48; k++) await send(at(k), { state: 6, product: 2, processed: 50 * (k - 12) });
    await send(at(49), { state: 4, product: 2, processed: 1_800 });
    await tracker.flush();
  });

  afterAll(async () => {
    await tracker?.stop();
    await testDb?.drop();
  });

  it("counts each product's units for its job and measures its cycle time", async () => {
    const config = (await stateConfigs(testDb.database.db, [machineId])).get(machineId)!;
    expect(await cycleTimes(testDb.database.db, machineId, config, T0, T0 + 5 * 3_600_000)).toEqual([
      { product: "cola", samples: 1, medianSeconds: 10, p90Seconds: 10, idealSeconds: 10, slower: false },
      { product: "water", samples: 3, medianSeconds: 6, p90Seconds: 6, idealSeconds: 5, slower: true },
    ]);
    const { rows } = await testDb.database.query<{ product: string; produced: number; ideal: number }>(
      `select product, sum(produced)::int as produced, sum(ideal_seconds)::int as ideal from production_count where machine_id = $1 and grain_seconds = 86400 group by product order by product`,
      [machineId],
    );
    expect(rows).toEqual([
      { product: "cola", produced: 360, ideal: 3_600 },
      { product: "water", produced: 1_800, ideal: 9_000 },
    ]);
  });

  it("gives the parts to the first order of the job's product, wherever it is in the queue", async () => {
    expect(await orderByNumber(testDb.database.db, "C-1")).toMatchObject({ status: "in_progress", good: 360 });
    expect(await orderByNumber(testDb.database.db, "W-1")).toMatchObject({ status: "completed", good: 1_000 });
  });
});
