import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJiraFake } from "../../connectors/jira/fixtures/fake.js";
import { JobQueues } from "../../src/jobs/queues.js";
import { batchTransitions, recordTransitions } from "../support/events.js";
import { eventually } from "../support/graphql.js";
import { spawnHub, type HubProcess } from "../support/hub-process.js";
import { quietLog, setUpPipelinePlant, type CounterRule, type PipelinePlant } from "../support/pipeline.js";
import { startPrivateRedis, type PrivateRedis } from "../support/redis.js";
import { TEST_MQTT_URL } from "../support/services.js";

/**
 * Workers die and Redis forgets, and still every planned task is created exactly once: the
 * database holds what must happen (event_action), Jira is searched by key before a second create,
 * and the reconcile job re-adds what Redis lost.
 */
describe("the alarm path under faults", () => {
  let plant: PipelinePlant;
  let jira: Awaited<ReturnType<typeof startJiraFake>>;
  let redis: PrivateRedis;
  let counter: CounterRule;
  const workers: HubProcess[] = [];

  const done = () => plant.count("select count(*)::int as n from event_action where status = 'done'");
  const issueCreates = () => jira.requests.filter((r) => r.method === "POST" && r.url === "/rest/api/3/issue").length;
  const spawnWorker = (redisUrl: string) => {
    // 20 jobs at a time, not the default 200: otherwise a worker finishes a fifth of the run before it is killed, and ten kills outlast the run.
    const worker = spawnHub({ roles: "worker", env: { ...plant.env, REDIS_URL: redisUrl, JOBS_LOCK_SECONDS: "2", CONNECTOR_RATE_LIMITS: "jira=200/1", WORKER_CONCURRENCY: "20", LOG_LEVEL: "info" } });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    plant = await setUpPipelinePlant("pipeline-faults", TEST_MQTT_URL);
    jira = await startJiraFake();
    redis = await startPrivateRedis();
    counter = await plant.addCounterRule();
    await plant.addJira(jira.baseUrl);
    await plant.addAutomation({
      name: "quality-check",
      trigger: "batch.completed",
      actions: [{ type: "create_task", key: "check", integration: "plant-jira", title: "Quality check: batch {{event.detail.batchNumber}} on {{machine.name}}" }],
    });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await redis?.kill();
    await jira?.close();
    await plant?.testDb.drop();
  });

  it("creates every task exactly once while the worker is killed -9 ten times during 1,000 events", async () => {
    const queues = new JobQueues(redis.url, plant.env.JOBS_PREFIX!, quietLog());
    await recordTransitions(plant.testDb.database, queues, batchTransitions(counter, 1_000));
    await queues.close();
    expect(await plant.count("select count(*)::int as n from event_action")).toBe(1_000);

    for (let kill = 0; kill < 10; kill++) {
      const worker = spawnWorker(redis.url);
      await worker.waitForLog("workers started");
      const before = await done();
      // Let it work a little, then take it away mid-flight.
      await eventually(async () => ((await done()) > before + 5 ? true : undefined), `progress before kill ${kill + 1}`, 20_000);
      await worker.kill("SIGKILL");
    }
    expect(await done()).toBeLessThan(1_000);

    const last = spawnWorker(redis.url);
    await last.waitForLog("workers started");
    await eventually(async () => ((await done()) === 1_000 ? true : undefined), "all 1,000 actions done", 120_000);

    expect(await plant.count("select count(*)::int as n from task")).toBe(1_000);
    expect(await plant.count("select count(distinct idempotency_key)::int as n from task")).toBe(1_000);
    // The tool holds one issue per event: a second create for the same key never reached it.
    const keys = [...jira.issues.values()].map((issue) => (issue as unknown as { fields: { labels: string[] } }).fields.labels.find((l) => l.startsWith("pg-e")));
    expect(keys).toHaveLength(1_000);
    expect(new Set(keys).size).toBe(1_000);
    expect(issueCreates()).toBe(1_000);
    expect(await plant.count("select count(*)::int as n from audit_entry where action in ('task.created', 'task.found')")).toBe(1_000);
    await last.kill();
  }, 300_000);

  it("loses nothing when Redis restarts empty mid-run: the reconcile job re-adds what it forgot", async () => {
    const worker = spawnWorker(redis.url);
    await worker.waitForLog("workers started");
    const queues = new JobQueues(redis.url, plant.env.JOBS_PREFIX!, quietLog());
    const target = (await plant.count("select count(*)::int as n from event_action")) + 300;
    await recordTransitions(plant.testDb.database, queues, batchTransitions(counter, 150, 2_001));
    await redis.kill();
    // Recorded while Redis is gone: committed in PostgreSQL, the jobs could not be added.
    await recordTransitions(plant.testDb.database, queues, batchTransitions(counter, 150, 2_151));
    await redis.restart();
    await eventually(async () => ((await done()) === target ? true : undefined), "all actions done after the restart", 120_000).catch(async (error: Error) => {
      const pending = await plant.count("select count(*)::int as n from event_action where status <> 'done'");
      throw new Error(`${error.message}; ${pending} not done; worker (${worker.child.exitCode ?? "running"}):\n${worker.tail(40)}`);
    });
    await queues.close();

    expect(await plant.count("select count(*)::int as n from task")).toBe(target);
    expect(await plant.count("select count(distinct idempotency_key)::int as n from task")).toBe(target);
    expect(issueCreates()).toBe(target);
    expect(await plant.count("select count(*)::int as n from audit_entry where action = 'action.replayed'")).toBeGreaterThan(0);
    // The same worker rode out the outage: still running, no unhandled rejection.
    expect(worker.child.exitCode).toBeNull();
    expect(worker.lines.filter((l) => l.msg === "unhandled promise rejection")).toEqual([]);
    await worker.kill();
  }, 300_000);
});
