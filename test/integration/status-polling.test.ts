import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MEISTERTASK_FAKE, startMeisterTaskFake } from "../../connectors/meistertask/fixtures/fake.js";
import { startHub, type Hub } from "../../src/hub.js";
import { JobQueues } from "../../src/jobs/queues.js";
import { batchTransitions, recordTransitions } from "../support/events.js";
import { eventually } from "../support/graphql.js";
import { quietLog, setUpPipelinePlant, type PipelinePlant } from "../support/pipeline.js";
import { TEST_MQTT_URL } from "../support/services.js";

/** MeisterTask has no webhooks: a Job Scheduler polls it, and the canonical status change follows. */
describe("status back by polling", () => {
  let plant: PipelinePlant;
  let meister: Awaited<ReturnType<typeof startMeisterTaskFake>>;
  let hub: Hub;

  const taskRow = async () => (await plant.testDb.database.query<{ external_id: string; status: string }>("select external_id, status from task")).rows[0];

  beforeAll(async () => {
    plant = await setUpPipelinePlant("status-polling", TEST_MQTT_URL);
    meister = await startMeisterTaskFake();
    const counter = await plant.addCounterRule();
    const { apiToken, ...settings } = MEISTERTASK_FAKE;
    await plant.addIntegration({ kind: "meistertask", name: "quality-board", config: { baseUrl: meister.baseUrl, ...settings }, secrets: { apiToken } });
    await plant.addAutomation({ name: "quality-check", trigger: "batch.completed", actions: [{ type: "create_task", key: "check", integration: "quality-board", title: "Quality check: batch {{event.detail.batchNumber}}" }] });
    hub = await startHub({ config: plant.config(), roles: ["worker"], log: quietLog() });
    const queues = new JobQueues(plant.env.REDIS_URL!, plant.env.JOBS_PREFIX!, quietLog());
    await recordTransitions(plant.testDb.database, queues, batchTransitions(counter, 1));
    await queues.close();
  });

  afterAll(async () => {
    await hub?.stop();
    await meister?.close();
    await plant?.testDb.drop();
  });

  it("creates the task, then learns from a poll that a person moved it along", async () => {
    const created = await eventually(taskRow, "task created in MeisterTask");
    expect(created!.status).toBe("open");
    expect([...meister.tasks.values()]).toHaveLength(1);

    await meister.moveTask!(created!.external_id, "In Progress");
    await eventually(async () => ((await taskRow())!.status === "in_progress" ? true : undefined), "in progress seen by a poll", 20_000);
    await meister.moveTask!(created!.external_id, "completed");
    await eventually(async () => ((await taskRow())!.status === "done" ? true : undefined), "done seen by a poll", 20_000);

    const changes = await plant.count("select count(*)::int as n from audit_entry where action = 'task.status_changed' and actor = 'tool:' || (select id from integration where name = 'quality-board')");
    expect(changes).toBe(2);
    expect(await plant.count("select count(*)::int as n from integration where name = 'quality-board' and polled_at is not null and last_success_at is not null")).toBe(1);
  });
});
