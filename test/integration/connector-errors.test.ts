import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJiraFake } from "../../connectors/jira/fixtures/fake.js";
import { startHub, type Hub } from "../../src/hub.js";
import { ACTION_ATTEMPTS } from "../../src/jobs/catalog.js";
import { JobQueues } from "../../src/jobs/queues.js";
import { batchTransitions, recordTransitions } from "../support/events.js";
import { eventually, graphql } from "../support/graphql.js";
import { quietLog, setUpPipelinePlant, type CounterRule, type PipelinePlant } from "../support/pipeline.js";
import { TEST_MQTT_URL } from "../support/services.js";

/** How the queue answers the tool: 429 is waited out, 5xx retried, 4xx dead-lettered with its reason and replayable. */
describe("connector errors in the pipeline", () => {
  let plant: PipelinePlant;
  let jira: Awaited<ReturnType<typeof startJiraFake>>;
  let hub: Hub;
  let queues: JobQueues;
  let counter: CounterRule;
  let next = 1;

  const creates = () => jira.requests.filter((r) => r.method === "POST" && r.url === "/rest/api/3/issue").length;
  const actions = (from: number) =>
    plant.testDb.database.query<{ id: number; status: string; attempts: number; error_kind: string | null; last_error: string | null }>(
      "select ea.id, ea.status, ea.attempts, ea.error_kind, ea.last_error from event_action ea join event e on e.id = ea.event_id where (e.detail->>'batchNumber')::int >= $1 order by ea.id",
      [from],
    );
  const raise = async (count: number) => {
    const first = next;
    next += count;
    await recordTransitions(plant.testDb.database, queues, batchTransitions(counter, count, first));
    return first;
  };
  const settled = (from: number, count: number) =>
    eventually(async () => {
      const { rows } = await actions(from);
      return rows.length === count && rows.every((r) => r.status !== "pending") ? rows : undefined;
    }, `${count} actions settled`, 30_000);

  beforeAll(async () => {
    plant = await setUpPipelinePlant("connector-errors", TEST_MQTT_URL);
    jira = await startJiraFake();
    counter = await plant.addCounterRule();
    await plant.addJira(jira.baseUrl);
    await plant.addAutomation({ name: "check", trigger: "batch.completed", actions: [{ type: "create_task", key: "check", integration: "plant-jira", title: "Check batch {{event.detail.batchNumber}}" }] });
    const config = plant.config({ RECONCILE_AFTER_SECONDS: "600" });
    hub = await startHub({ config, roles: ["api", "worker"], log: quietLog() });
    queues = new JobQueues(plant.env.REDIS_URL!, plant.env.JOBS_PREFIX!, quietLog());
  });

  afterAll(async () => {
    await queues?.close();
    await hub?.stop();
    await jira?.close();
    await plant?.testDb.drop();
  });

  it("waits out a 429 storm as long as Retry-After says, without spending attempts", async () => {
    jira.failNext(429, { times: 6, headers: { "retry-after": "1" } });
    const started = Date.now();
    const from = await raise(3);
    const rows = await settled(from, 3);
    expect(rows.map((r) => r.status)).toEqual(["done", "done", "done"]);
    expect(rows.map((r) => r.attempts)).toEqual([1, 1, 1]);
    // Six 429s with Retry-After: 1 cannot all be waited out in under a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(await plant.count("select count(*)::int as n from task")).toBe(3);
  });

  it("retries a 503 with backoff until it works", async () => {
    jira.failNext(503, { times: 2 });
    const from = await raise(1);
    const [row] = await settled(from, 1);
    expect(row).toMatchObject({ status: "done", attempts: 3 });
    expect(row!.attempts).toBeLessThan(ACTION_ATTEMPTS);
  });

  it("dead-letters a 400 at once with Jira's reason, and replays it over GraphQL", async () => {
    const before = creates();
    jira.failNext(400, { times: 1, body: { errorMessages: [], errors: { priority: "Specify a valid priority" } } });
    const from = await raise(1);
    const [dead] = await settled(from, 1);
    expect(dead).toMatchObject({ status: "dead", attempts: 1, error_kind: "rejected" });
    expect(dead!.last_error).toContain("Specify a valid priority");
    expect(creates()).toBe(before + 1); // no retry of a rejection
    expect(await plant.count("select count(*)::int as n from audit_entry where action = 'action.dead_lettered' and entity_id = $1", [String(dead!.id)])).toBe(1);
    const { data: health } = await graphql(hub.graphqlUrl!, `{ integrations { name lastError deadLetters } }`, {}, plant.adminKey);
    expect(health?.integrations).toEqual([expect.objectContaining({ name: "plant-jira", deadLetters: 1, lastError: expect.stringContaining("rejected") })]);

    const { data: letters } = await graphql(hub.graphqlUrl!, `{ deadLetters(first: 10) { edges { node { id errorKind lastError } } } }`, {}, plant.adminKey);
    const [letter] = letters?.deadLetters.edges ?? [];
    expect(letter?.node).toMatchObject({ errorKind: "rejected", lastError: expect.stringContaining("Specify a valid priority") });
    const { data: replayed } = await graphql(hub.graphqlUrl!, `mutation($id: ID!) { replayAction(id: $id) { errors { message } } }`, { id: letter!.node.id }, plant.adminKey);
    expect(replayed?.replayAction.errors).toEqual([]);
    const [again] = await eventually(async () => {
      const { rows } = await actions(from);
      return rows[0]?.status === "done" ? rows : undefined;
    }, "replayed action done");
    expect(again).toMatchObject({ status: "done", error_kind: null });
    expect(creates()).toBe(before + 2);
    expect(await plant.count("select count(*)::int as n from audit_entry where action = 'action.replayed'")).toBeGreaterThanOrEqual(1);
  });
});
