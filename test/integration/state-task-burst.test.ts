import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPointsByMachine, machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { StateTracker } from "../../src/availability/state.tracker.js";
import { Bus } from "../../src/bus/bus.js";
import { createIntegration } from "../../src/integrations/integration.service.js";
import { createLogger } from "../../src/log/logger.js";
import { createHubPubSub, SUBSCRIBER_BUFFER, type PubSubHandle } from "../../src/pubsub/pubsub.js";
import { samplesAt } from "../support/availability.js";
import { seedTask } from "../support/alarms.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { eventually } from "../support/graphql.js";
import { oneMachinePath, oneMachinePlant } from "../support/plant.js";
import { TEST_REDIS_URL } from "../support/services.js";

/**
 * A burst of task changes (thousands of tickets created at once) through the Redis pubsub: the
 * state tracker keeps up, the machine enters maintenance, and no subscriber falling behind can
 * stop the process (graphql-yoga's own subscribe threw into the Redis message handler).
 */
describe("the state tracker under a burst of task changes", () => {
  let testDb: TestDatabase;
  let handle: PubSubHandle;
  let tracker: StateTracker;
  const log = createLogger("silent");

  beforeAll(async () => {
    testDb = await createTestDatabase("state_task_burst");
    await applyPlantText(testDb.database, oneMachinePlant("burst", "press", [{ name: "speed" }]), "burst.yaml", log);
    handle = createHubPubSub(TEST_REDIS_URL, log, `test-burst-${randomBytes(4).toString("hex")}`);
    tracker = new StateTracker(testDb.database, new Bus(log), handle.pubsub, undefined, log, { offlineAfterMs: 3_600_000 });
    await tracker.start();
  });

  afterAll(async () => {
    await tracker?.stop();
    await handle?.close();
    await testDb?.drop();
  });

  it("enters maintenance once the burst says a task is in progress, with far more messages than a subscriber may fall behind", async () => {
    const machine = (await machineByPath(testDb.database.db, oneMachinePath("burst", "press")))!;
    const points = new Map((await dataPointsByMachine(testDb.database.db, [machine.id])).map((p) => [p.name, p.id]));
    await tracker.samples(samplesAt(machine.id, points, Date.now(), { speed: 50 }));
    await tracker.flush();
    const board = await createIntegration(testDb.database.db, undefined, { kind: "builtin", name: "board" }, { actor: "test" });
    const task = await seedTask(testDb.database.db, { integrationId: board.id, machineId: machine.id });
    await testDb.database.query(`update task set status = 'in_progress' where id = $1`, [task.id]);

    // A subscriber that reads once and then stalls, like a WebSocket client on a dead network.
    const stalled = handle.pubsub.subscribe("TASK_CHANGED")[Symbol.asyncIterator]();
    const firstRead = stalled.next(); // a repeater starts listening at its first read
    const burst = SUBSCRIBER_BUFFER * 3;
    for (let i = 0; i < burst; i++) {
      handle.pubsub.publish("TASK_CHANGED", { taskId: task.id, machineId: machine.id, alarmId: null, integrationId: board.id, status: "in_progress", at: new Date().toISOString() });
    }
    const state = async () =>
      (await testDb.database.query<{ state: string }>(`select state from machine_state_interval where machine_id = $1 and ended_at is null`, [machine.id])).rows[0]?.state;
    await eventually(async () => ((await state()) === "maintenance" ? true : undefined), "the machine in maintenance", 20_000);
    // The stalled subscriber cost only its own oldest messages, and this process is still here to tell.
    expect((await firstRead).done).toBe(false);
    expect((await stalled.next()).done).toBe(false);
    await stalled.return(undefined);
  });
});
