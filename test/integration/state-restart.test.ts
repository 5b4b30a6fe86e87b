import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPointsByMachine, machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { StateTracker } from "../../src/availability/state.tracker.js";
import { Bus } from "../../src/bus/bus.js";
import { createLogger } from "../../src/log/logger.js";
import { createHubPubSub } from "../../src/pubsub/pubsub.js";
import { samplesAt } from "../support/availability.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { oneMachinePath, oneMachinePlant } from "../support/plant.js";

/** A hub that stops (or crashes) and starts again leaves no gap and no overlap in a machine's intervals. */

const T0 = Date.parse("2026-06-01T08:00:00Z");
const MINUTE = 60_000;

describe("state intervals across a hub restart", () => {
  let testDb: TestDatabase;
  const log = createLogger("silent");
  const pubsub = createHubPubSub().pubsub;

  beforeAll(async () => {
    testDb = await createTestDatabase("state_restart");
    await applyPlantText(testDb.database, oneMachinePlant("rs", "saw", [{ name: "speed" }]), "rs.yaml", log);
  });

  afterAll(async () => {
    await testDb?.drop();
  });

  it("ends the open interval where it was last confirmed and fills the gap as offline until data comes back", async () => {
    const machine = (await machineByPath(testDb.database.db, oneMachinePath("rs", "saw")))!;
    const points = new Map((await dataPointsByMachine(testDb.database.db, [machine.id])).map((p) => [p.name, p.id]));
    const first = new StateTracker(testDb.database, new Bus(log), pubsub, undefined, log, { offlineAfterMs: 10 * MINUTE, timers: false });
    await first.start(T0);
    await first.samples(samplesAt(machine.id, points, T0, { speed: 50 }));
    await first.tick(T0 + 5 * MINUTE);
    await first.flush();
    // A crash: the tracker is not stopped, its open interval stays open. Back after an hour.
    const second = new StateTracker(testDb.database, new Bus(log), pubsub, undefined, log, { offlineAfterMs: 10 * MINUTE, timers: false });
    await second.start(T0 + 65 * MINUTE);
    await second.samples(samplesAt(machine.id, points, T0 + 66 * MINUTE, { speed: 50 }));
    await second.flush();
    await second.stop();

    const { rows } = await testDb.database.query<{ state: string; reason: string; started_at: Date; ended_at: Date | null }>(
      `select state, reason, started_at, ended_at from machine_state_interval where machine_id = $1 order by started_at`,
      [machine.id],
    );
    expect(rows.map((r) => [r.state, r.reason, (r.started_at.getTime() - T0) / MINUTE, r.ended_at && (r.ended_at.getTime() - T0) / MINUTE])).toEqual([
      ["running", "", 0, 5],
      ["offline", "hub_restart", 5, 66],
      ["running", "", 66, null],
    ]);
  });

  it("a change undone at the same instant reopens the interval before it, rollups included", async () => {
    await applyPlantText(testDb.database, oneMachinePlant("rs", "drill", [{ name: "speed" }]), "rs.yaml", log);
    const machine = (await machineByPath(testDb.database.db, oneMachinePath("rs", "drill")))!;
    const points = new Map((await dataPointsByMachine(testDb.database.db, [machine.id])).map((p) => [p.name, p.id]));
    const tracker = new StateTracker(testDb.database, new Bus(log), pubsub, undefined, log, { offlineAfterMs: 10 * MINUTE, timers: false });
    await tracker.start(T0);
    await tracker.samples(samplesAt(machine.id, points, T0, { speed: 50 }));
    await tracker.task(machine.id, true, T0 + 5 * MINUTE);
    await tracker.task(machine.id, false, T0 + 5 * MINUTE);
    await tracker.flush();
    await tracker.stop();
    const { rows } = await testDb.database.query<{ state: string; ended_at: Date | null }>(`select state, ended_at from machine_state_interval where machine_id = $1`, [machine.id]);
    expect(rows).toEqual([{ state: "running", ended_at: null }]);
    const rolled = await testDb.database.query<{ seconds: number }>(`select coalesce(sum(seconds), 0)::float8 as seconds from machine_state_rollup where machine_id = $1`, [machine.id]);
    expect(rolled.rows[0]!.seconds).toBe(0);
  });
});
