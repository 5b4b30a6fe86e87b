import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPointsByMachine, machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { kpisOf } from "../../src/availability/kpi.service.js";
import { StateTracker } from "../../src/availability/state.tracker.js";
import { Bus } from "../../src/bus/bus.js";
import { createLogger } from "../../src/log/logger.js";
import { createHubPubSub } from "../../src/pubsub/pubsub.js";
import { samplesAt } from "../support/availability.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/** minorStopSeconds: 120. A 60 s stop is a minor stop (idle, a speed loss), a 5-minute one a breakdown. */

const T0 = Date.parse("2026-06-01T08:00:00Z");
const SECOND = 1_000;
const plant = `
enterprise: ms
sites:
  - name: plant
    areas:
      - name: hall
        lines:
          - name: line-1
            machines:
              - name: lathe
                dataPoints: [{ name: speed }, { name: fault, dataType: integer }]
                state:
                  sources: [{ point: fault, map: { "1": down } }, { point: speed, runningAbove: 0 }]
                  minorStopSeconds: 120
`;

describe("minor stops", () => {
  let testDb: TestDatabase;
  const log = createLogger("silent");

  beforeAll(async () => {
    testDb = await createTestDatabase("minor_stops");
    await applyPlantText(testDb.database, plant, "ms.yaml", log);
  });

  afterAll(async () => {
    await testDb?.drop();
  });

  it("records a stop shorter than the threshold as idle (minor_stop) and a longer one as down", async () => {
    const machine = (await machineByPath(testDb.database.db, "ms/plant/hall/line-1/lathe"))!;
    const points = new Map((await dataPointsByMachine(testDb.database.db, [machine.id])).map((p) => [p.name, p.id]));
    const tracker = new StateTracker(testDb.database, new Bus(log), createHubPubSub().pubsub, undefined, log, { offlineAfterMs: 3_600_000, timers: false });
    await tracker.start(T0);
    for (const [at, fault] of [[0, 0], [600, 1], [660, 0], [1200, 1], [1500, 0]] as const) {
      await tracker.samples(samplesAt(machine.id, points, T0 + at * SECOND, { speed: 100, fault }));
    }
    await tracker.flush();
    await tracker.stop();
    const { rows } = await testDb.database.query<{ state: string; reason: string }>(`select state, reason from machine_state_interval where machine_id = $1 order by started_at`, [machine.id]);
    expect(rows.map((r) => `${r.state}:${r.reason}`)).toEqual(["running:", "idle:minor_stop", "running:", "down:", "running:"]);
    const k = await kpisOf(testDb.database.db, [machine.id], T0, T0 + 1800 * SECOND, T0 + 1800 * SECOND);
    expect(k).toMatchObject({ actualDelayTime: 60, actualDownTime: 300, actualProductionTime: 1440 });
  });
});
