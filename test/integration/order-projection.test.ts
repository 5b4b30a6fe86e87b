import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPointsByMachine, machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { StateTracker } from "../../src/availability/state.tracker.js";
import { saveAutomation } from "../../src/automations/automation.service.js";
import { Bus } from "../../src/bus/bus.js";
import { createIntegration } from "../../src/integrations/integration.service.js";
import { createLogger } from "../../src/log/logger.js";
import { orderById, upsertOrders } from "../../src/orders/order.service.js";
import { refreshPlanning } from "../../src/orders/planning.js";
import { createHubPubSub } from "../../src/pubsub/pubsub.js";
import { samplesAt } from "../support/availability.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/**
 * A machine planned around the clock runs 8 h at its ideal 10 s a part, then an order of 4,000
 * parts due in 12 h arrives: on time at 10 s. It slows to 12 s; after 4 h the projection (from the
 * last 8 h: 28,800 s for 2,645 parts) passes the due date and `order.at_risk` is recorded, once.
 * A second, small order completes and its `order.completed` plans the quality-check task.
 */

const plant = `
enterprise: ord
sites:
  - name: plant
    areas:
      - name: hall
        lines:
          - name: line-1
            machines:
              - name: cutter
                dataPoints: [{ name: speed }, { name: parts, dataType: integer }]
                state: { idealCycleSeconds: 10 }
`;
const T0 = Date.parse("2026-05-04T00:00:00Z");
const HOUR = 3_600_000;

describe("production orders: progress, projection from the actual rate, at-risk and completed events", () => {
  let testDb: TestDatabase;
  let tracker: StateTracker;
  let machineId = 0;
  let points: Map<string, number>;
  const log = createLogger("silent");
  const pubsub = createHubPubSub().pubsub;
  let parts = 0;
  let clock = T0;

  /** Runs the machine from the clock for `hours` at `cycle` seconds a part, a sample every 5 minutes. */
  async function run(hours: number, cycle: number): Promise<void> {
    const end = clock + hours * HOUR;
    for (; clock <= end; clock += 300_000) {
      await tracker.samples(samplesAt(machineId, points, clock, { speed: 100, parts: Math.floor(parts) }));
      parts += 300 / cycle;
    }
    clock -= 300_000;
    parts -= 300 / cycle;
  }

  const eventsOf = async (kind: string) =>
    (await testDb.database.query<{ detail: Record<string, unknown> }>(`select detail from event where kind = $1 order by id`, [kind])).rows.map((r) => r.detail);

  beforeAll(async () => {
    testDb = await createTestDatabase("order_projection");
    await applyPlantText(testDb.database, plant, "orders.yaml", log);
    machineId = (await machineByPath(testDb.database.db, "ord/plant/hall/line-1/cutter"))!.id;
    points = new Map((await dataPointsByMachine(testDb.database.db, [machineId])).map((p) => [p.name, p.id]));
    await createIntegration(testDb.database.db, undefined, { kind: "builtin", name: "board", config: {} }, { actor: "test" });
    await saveAutomation(testDb.database.db, { name: "quality check", trigger: "order.completed", actions: [{ type: "create_task", key: "qc", integration: "board", title: "Quality check: {{event.message}}" }] }, "test");
    tracker = new StateTracker(testDb.database, new Bus(log), pubsub, undefined, log, { offlineAfterMs: 600_000, timers: false });
    await tracker.start(T0);
    await run(8, 10);
    await tracker.flush();
  });

  afterAll(async () => {
    await tracker?.stop();
    await testDb?.drop();
  });

  it("moves the projection past the due date when the machine slows down, and says so once", async () => {
    const due = clock + 12 * HOUR;
    const [order] = await testDb.database.db.transaction((tx) => upsertOrders(tx, [{ number: "A-1", product: "blade", quantity: 4_000, dueAt: new Date(due), machineId, sequence: 0 }], "test"));
    await refreshPlanning(testDb.database, undefined, pubsub, log, clock);
    const onTime = (await orderById(testDb.database.db, order!.id))!;
    expect(onTime.atRisk).toBe(false);
    // The last 8 h: 28,800 s of planned busy time for 2,850 parts (the sample at `clock` opens the next window).
    expect(onTime.projectedCompletionAt!.getTime()).toBe(clock + Math.round(((4_000 * 28_800) / 2_850) * 1000));

    await run(4, 12);
    await tracker.flush();
    const slowed = (await orderById(testDb.database.db, order!.id))!;
    expect(slowed).toMatchObject({ status: "in_progress", good: 1_200, produced: 1_200 });
    await refreshPlanning(testDb.database, undefined, pubsub, log, clock);
    const late = (await orderById(testDb.database.db, order!.id))!;
    expect(late.atRisk).toBe(true);
    // 2,800 parts left at 28,800 s for 1,470 + 1,175 parts over the last 8 hours.
    expect(late.projectedCompletionAt!.getTime()).toBe(clock + Math.round(((2_800 * 28_800) / 2_645) * 1000));
    expect(late.projectedCompletionAt!.getTime()).toBeGreaterThan(due);
    expect(late.riskReason).toMatch(/after the due date: 2800 parts left at 10\.9 s per good part \(actual\)/);

    await refreshPlanning(testDb.database, undefined, pubsub, log, clock + 60_000);
    expect(await eventsOf("order.at_risk")).toEqual([expect.objectContaining({ number: "A-1", orderId: order!.id })]);
  });

  it("completes an order from the counters and plans its quality-check task", async () => {
    // Sequence 0 ties with A-1; the earlier due date puts A-0 first.
    const [order] = await testDb.database.db.transaction((tx) => upsertOrders(tx, [{ number: "A-0", product: "blade", quantity: 50, dueAt: new Date(clock + HOUR), machineId, sequence: 0 }], "test"));
    await run(0.25, 12);
    await tracker.flush();
    const done = await orderById(testDb.database.db, order!.id);
    expect(done).toMatchObject({ status: "completed", good: 50 });
    expect(await eventsOf("order.completed")).toEqual([expect.objectContaining({ number: "A-0", quantity: 50 })]);
    const { rows } = await testDb.database.query<{ status: string; action_type: string }>(`select a.status, a.action_type from event_action a join event e on e.id = a.event_id where e.kind = 'order.completed'`);
    expect(rows).toEqual([{ status: "pending", action_type: "create_task" }]);
  });

  it("says line.at_capacity once a day when the queued work fills the line's planned time left today", async () => {
    const now = clock;
    await refreshPlanning(testDb.database, undefined, pubsub, log, now);
    expect(await eventsOf("line.at_capacity")).toEqual([]);
    await testDb.database.db.transaction((tx) => upsertOrders(tx, [{ number: "A-2", product: "blade", quantity: 100_000, dueAt: new Date(now + 30 * 86_400_000), machineId, sequence: 5 }], "test"));
    await refreshPlanning(testDb.database, undefined, pubsub, log, now);
    await refreshPlanning(testDb.database, undefined, pubsub, log, now + 60_000);
    expect(await eventsOf("line.at_capacity")).toEqual([expect.objectContaining({ line: "ord/plant/hall/line-1", spareSeconds: expect.any(Number) })]);
    expect((await eventsOf("line.at_capacity"))[0]!.spareSeconds).toBeLessThanOrEqual(0);
  });
});
