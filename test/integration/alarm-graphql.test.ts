import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { parseConfig } from "../../src/config.js";
import { createIntegration, integrationByName } from "../../src/integrations/integration.service.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createLogger } from "../../src/log/logger.js";
import { createHubPubSub, type PubSubHandle } from "../../src/pubsub/pubsub.js";
import { raiseTestAlarm, seedDeadAction, seedRule, seedTask } from "../support/alarms.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { eventually, firstResults, graphql, wsClient } from "../support/graphql.js";
import { sealerPath, sealerPerSitePlant } from "../support/plant.js";
import { TEST_REDIS_URL } from "../support/services.js";

/**
 * The alarm path over the real GraphQL server: rules, alarms, tasks on the built-in board, dead
 * letters and replay, integration health, with site scope (berlin inside, paris outside the
 * one-site keys). The hub runs without SECRETS_KEYS, so only secret-less integrations can be made.
 */

const enterprise = `al${randomBytes(3).toString("hex")}`;
const machinePath = (site: string) => sealerPath(enterprise, site);
const plant = sealerPerSitePlant(enterprise, ["berlin", "paris"]);

const RULE = `mutation($input: SaveRuleInput!) { saveRule(input: $input) { rule { id name dataPoint kind severity enabled version params machine { path } } errors { field message } } }`;
const ALARM_FIELDS = `id state shelved shelvedUntil shelvedBy shelveReason acknowledgedBy conditionActive raiseCount value rule { id name version } machine { path }`;

describe("alarm path over GraphQL", () => {
  let testDb: TestDatabase;
  let hub: Hub;
  let endpoint: string;
  let pubsub: PubSubHandle;
  let redis: Redis;
  const jobsPrefix = `alarmgql${randomBytes(3).toString("hex")}`;
  const machines = {} as Record<"berlin" | "paris", number>;
  const keys = {} as Record<"admin" | "engineer" | "operator" | "viewer", string>;
  const identities = {} as Record<keyof typeof keys, string>;
  let boardId: number;

  const gql = <T = Record<string, any>>(key: keyof typeof keys, query: string, variables: Record<string, unknown> = {}) =>
    graphql<T>(endpoint, query, variables, keys[key]);

  /** The data of an operation that must not fail. */
  async function data(key: keyof typeof keys, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const result = await gql(key, query, variables);
    expect(result.errors).toBeUndefined();
    return result.data!;
  }

  beforeAll(async () => {
    testDb = await createTestDatabase("alarm_graphql");
    const log = createLogger("silent");
    await applyPlantText(testDb.database, plant, "alarm.yaml", log);
    for (const site of ["berlin", "paris"] as const) machines[site] = (await machineByPath(testDb.database.db, machinePath(site)))!.id;
    const berlin = [`${enterprise}/berlin`];
    for (const [name, role, sites] of [
      ["admin", "admin", null],
      ["engineer", "engineer", berlin],
      ["operator", "operator", berlin],
      ["viewer", "viewer", berlin],
    ] as const) {
      const { key, row } = await createApiKey(testDb.database.db, { name, role, sites: sites ? [...sites] : null, createdBy: "test" });
      keys[name] = key;
      identities[name] = `key:${row.id}`;
    }
    const config = parseConfig({
      NODE_ENV: "test",
      DATABASE_URL: testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      JOBS_PREFIX: jobsPrefix,
      PORT: "0",
      SIMULATOR: "false",
      LOG_LEVEL: "silent",
      RATE_LIMIT_PER_MINUTE: "100000",
    });
    hub = await startHub({ config, roles: ["api"], log });
    endpoint = hub.graphqlUrl!;
    pubsub = createHubPubSub(TEST_REDIS_URL, undefined, config.jobs.prefix);
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    redis?.disconnect();
    await pubsub?.close();
    await hub?.stop();
    await testDb?.drop();
  });

  describe("rules", () => {
    it("answers invalid rules with UserErrors on the input fields, and hides other sites' machines", async () => {
      const input = { machineId: globalId("Machine", machines.berlin), dataPoint: "temperature", name: "overheat", params: { kind: "threshold", condition: "above" } };
      const missingLimit = await data("engineer", RULE, { input });
      expect(missingLimit.saveRule).toEqual({ rule: null, errors: [{ field: ["input", "params", "limit"], message: "threshold 'above' needs a limit" }] });

      const badName = await data("engineer", RULE, { input: { ...input, name: "bad name!", params: { kind: "threshold", condition: "above", limit: 80 } } });
      expect(badName.saveRule.errors).toEqual([{ field: ["input", "name"], message: "expected 1-63 letters, digits, '_', '.' or '-'" }]);

      const unknownKind = await data("engineer", RULE, { input: { ...input, params: { kind: "magic" } } });
      expect(unknownKind.saveRule.errors[0].field).toEqual(["input", "params", "kind"]);

      const noPoint = await data("engineer", RULE, { input: { ...input, dataPoint: "pressure", params: { kind: "stale", afterSeconds: 60 } } });
      expect(noPoint.saveRule.errors).toEqual([{ field: ["input", "dataPoint"], message: 'the machine has no data point named "pressure"' }]);

      const paris = await data("engineer", RULE, { input: { ...input, machineId: globalId("Machine", machines.paris), params: { kind: "stale", afterSeconds: 60 } } });
      expect(paris.saveRule.errors).toEqual([{ field: ["input", "machineId"], message: "no machine has this id" }]);

      const denied = await gql("operator", RULE, { input });
      expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect(await data("admin", `{ rules { name } }`)).toEqual({ rules: [] });
    });

    it("creates at version 1, keeps the version on a no-op save, bumps it on a change, and tells the ingest replicas", async () => {
      const changes: string[] = [];
      const iterator = pubsub.pubsub.subscribe("RULES_CHANGED")[Symbol.asyncIterator]();
      const collecting = (async () => {
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          changes.push(next.value.at);
        }
      })();
      // Redis pubsub delivers only to subscribers already subscribed.
      await new Promise((r) => setTimeout(r, 200));

      const input = { machineId: globalId("Machine", machines.berlin), dataPoint: "temperature", name: "hot", severity: "CRITICAL", params: { kind: "threshold", condition: "above", limit: 80 } };
      const created = (await data("engineer", RULE, { input })).saveRule.rule;
      expect(created).toMatchObject({ name: "hot", dataPoint: "temperature", kind: "threshold", severity: "CRITICAL", enabled: true, version: 1, machine: { path: machinePath("berlin") } });
      expect(created.params).toEqual({ kind: "threshold", condition: "above", limit: 80, hysteresis: 0, forSeconds: 0, clearForSeconds: 0 });
      await eventually(async () => (changes.length === 1 ? true : undefined), "RULES_CHANGED after create");

      const same = (await data("engineer", RULE, { input })).saveRule.rule;
      expect(same).toMatchObject({ id: created.id, version: 1 });

      const changed = (await data("engineer", RULE, { input: { ...input, params: { ...input.params, limit: 85 } } })).saveRule.rule;
      expect(changed).toMatchObject({ id: created.id, version: 2, params: { limit: 85 } });
      await eventually(async () => (changes.length === 2 ? true : undefined), "RULES_CHANGED after change");
      await new Promise((r) => setTimeout(r, 200));
      expect(changes).toHaveLength(2); // the no-op save published nothing

      expect((await data("viewer", `query($m: ID) { rules(machineId: $m) { name version } }`, { m: globalId("Machine", machines.berlin) })).rules).toEqual([{ name: "hot", version: 2 }]);
      const deleted = await data("engineer", `mutation($id: ID!) { deleteRule(id: $id) { deletedId errors { message } } }`, { id: created.id });
      expect(deleted.deleteRule).toEqual({ deletedId: created.id, errors: [] });
      await eventually(async () => (changes.length === 3 ? true : undefined), "RULES_CHANGED after delete");
      await iterator.return?.();
      await collecting;
    });
  });

  describe("automations", () => {
    it("validates with the automation schema, versions real changes only, and is plant-wide", async () => {
      const SAVE = `mutation($input: SaveAutomationInput!) { saveAutomation(input: $input) { automation { id name trigger conditions actions cooldownSeconds enabled version } errors { field message } } }`;
      const input = {
        name: "ticket on critical",
        trigger: "ALARM_RAISED",
        conditions: { severities: ["critical"], sites: [`${enterprise}/berlin`] },
        actions: [{ type: "create_task", key: "ticket", integration: "board", title: "{{event.message}}", labels: ["plant"] }],
      };
      const invalid = await data("engineer", SAVE, { input: { ...input, actions: [{ type: "close_task", key: "Bad Key", integration: "board" }] } });
      expect(invalid.saveAutomation).toEqual({
        automation: null,
        errors: [{ field: ["input", "actions", "0", "key"], message: "expected 1-32 lower-case letters, digits, '_' or '-'" }],
      });
      const needsAlarm = await data("engineer", SAVE, { input: { ...input, trigger: "BATCH_COMPLETED", actions: [{ type: "close_task", key: "close", integration: "board" }] } });
      expect(needsAlarm.saveAutomation.errors).toEqual([{ field: ["input", "actions", "0", "type"], message: "close_task needs an alarm trigger (its tasks are the alarm's)" }]);

      const created = (await data("engineer", SAVE, { input })).saveAutomation.automation;
      expect(created).toMatchObject({ name: "ticket on critical", trigger: "ALARM_RAISED", cooldownSeconds: 0, enabled: true, version: 1 });
      expect(created.actions[0]).toMatchObject({ type: "create_task", key: "ticket", description: "{{event.message}}" });
      expect((await data("engineer", SAVE, { input })).saveAutomation.automation.version).toBe(1);
      expect((await data("engineer", SAVE, { input: { ...input, cooldownSeconds: 600 } })).saveAutomation.automation).toMatchObject({ id: created.id, version: 2, cooldownSeconds: 600 });

      // Plant-wide: a one-site planner sees it, a viewer may not.
      const { key: planner } = await createApiKey(testDb.database.db, { name: "planner", role: "planner", sites: [`${enterprise}/paris`], createdBy: "test" });
      expect((await graphql(endpoint, `{ automations { name version } }`, {}, planner)).data).toEqual({ automations: [{ name: "ticket on critical", version: 2 }] });
      expect((await gql("viewer", `{ automations { name } }`)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      const deleted = await data("engineer", `mutation($id: ID!) { deleteAutomation(id: $id) { deletedId errors { message } } }`, { id: created.id });
      expect(deleted.deleteAutomation).toEqual({ deletedId: created.id, errors: [] });
      expect((await data("engineer", `{ automations { name } }`)).automations).toEqual([]);
    });
  });

  describe("alarms", () => {
    it("lists alarms newest first within the caller's sites", async () => {
      const berlinRule = await seedRule(testDb.database.db, machines.berlin, "temperature", "list-berlin");
      const parisRule = await seedRule(testDb.database.db, machines.paris, "temperature", "list-paris");
      const berlinAlarm = (await raiseTestAlarm(testDb.database.db, berlinRule, 93)).alarm;
      const parisAlarm = (await raiseTestAlarm(testDb.database.db, parisRule)).alarm;
      const LIST = `query($f: AlarmFilter) { alarms(filter: $f, first: 50) { totalCount edges { node { ${ALARM_FIELDS} severity message } } } }`;

      const all = (await data("admin", LIST)).alarms;
      const ids = all.edges.map((e: any) => Number(e.node.id));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(ids).toEqual(expect.arrayContaining([berlinAlarm.id, parisAlarm.id]));

      const berlin = (await data("viewer", LIST)).alarms;
      expect(berlin.edges.map((e: any) => Number(e.node.id))).toContain(berlinAlarm.id);
      expect(berlin.edges.map((e: any) => Number(e.node.id))).not.toContain(parisAlarm.id);
      expect(berlin.edges.find((e: any) => Number(e.node.id) === berlinAlarm.id).node).toMatchObject({
        state: "ACTIVE",
        severity: "CRITICAL",
        conditionActive: true,
        shelved: false,
        value: 93,
        raiseCount: 1,
        rule: { id: String(berlinRule.id), name: "list-berlin", version: 1 },
        machine: { path: machinePath("berlin") },
      });
      // A machine of another site is as unknown as a wrong id.
      const paris = (await data("viewer", LIST, { f: { machineId: globalId("Machine", machines.paris) } })).alarms;
      expect(paris).toMatchObject({ totalCount: 0, edges: [] });
      const ack = await data("operator", `mutation($id: ID!) { acknowledgeAlarm(id: $id) { alarm { id } errors { field message } } }`, { id: String(parisAlarm.id) });
      expect(ack.acknowledgeAlarm).toEqual({ alarm: null, errors: [{ field: ["id"], message: "no alarm has this id" }] });
    });

    it("acknowledges, and alarmChanged delivers the change only to subscribers who may see it", async () => {
      const berlinAlarm = (await raiseTestAlarm(testDb.database.db, await seedRule(testDb.database.db, machines.berlin, "temperature"))).alarm;
      const parisAlarm = (await raiseTestAlarm(testDb.database.db, await seedRule(testDb.database.db, machines.paris, "temperature"))).alarm;
      const client = wsClient(endpoint, { authorization: `Bearer ${keys.viewer}` });
      try {
        const first = firstResults(client, `subscription { alarmChanged { id state acknowledgedBy } }`, 1);
        await new Promise((r) => setTimeout(r, 300));
        // The paris change is published first; the berlin-only subscriber must skip it.
        const parisAck = await data("admin", `mutation($id: ID!) { acknowledgeAlarm(id: $id) { alarm { state } errors { message } } }`, { id: String(parisAlarm.id) });
        expect(parisAck.acknowledgeAlarm.alarm.state).toBe("ACKNOWLEDGED");
        const ack = await data("operator", `mutation($id: ID!) { acknowledgeAlarm(id: $id, note: "on it") { alarm { ${ALARM_FIELDS} acknowledgedAt } errors { message } } }`, {
          id: String(berlinAlarm.id),
        });
        expect(ack.acknowledgeAlarm.alarm).toMatchObject({ state: "ACKNOWLEDGED", acknowledgedBy: identities.operator, conditionActive: true });
        expect(await first).toEqual([{ data: { alarmChanged: { id: String(berlinAlarm.id), state: "ACKNOWLEDGED", acknowledgedBy: identities.operator } } }]);
      } finally {
        await client.dispose();
      }
      const { rows } = await testDb.database.query<{ actor: string; reason: string | null; request_id: string | null }>(
        "select actor, reason, request_id from audit_entry where action = 'alarm.acknowledged' and entity_id = $1",
        [String(berlinAlarm.id)],
      );
      expect(rows).toEqual([{ actor: identities.operator, reason: "on it", request_id: expect.any(String) }]);
    });

    it("shelves for at most 7 days with a reason, leaves shelved alarms out on request, and unshelves", async () => {
      const alarm = (await raiseTestAlarm(testDb.database.db, await seedRule(testDb.database.db, machines.berlin, "temperature"))).alarm;
      const SHELVE = `mutation($id: ID!, $until: DateTime!, $reason: String!) { shelveAlarm(id: $id, until: $until, reason: $reason) { alarm { ${ALARM_FIELDS} } errors { field message } } }`;
      const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();
      const id = String(alarm.id);

      expect((await data("operator", SHELVE, { id, until: inHours(-1), reason: "x" })).shelveAlarm.errors).toEqual([{ field: ["until"], message: "must be in the future" }]);
      expect((await data("operator", SHELVE, { id, until: inHours(8 * 24), reason: "x" })).shelveAlarm.errors).toEqual([{ field: ["until"], message: "must be at most 7 days ahead" }]);
      expect((await data("operator", SHELVE, { id, until: inHours(2), reason: "  " })).shelveAlarm.errors).toEqual([{ field: ["reason"], message: "say why the alarm is shelved" }]);

      const until = inHours(2);
      const shelved = (await data("operator", SHELVE, { id, until, reason: "sensor being replaced" })).shelveAlarm;
      expect(shelved).toMatchObject({ errors: [], alarm: { shelved: true, shelvedUntil: until, shelvedBy: identities.operator, shelveReason: "sensor being replaced", state: "ACTIVE" } });

      const LIST = `query($f: AlarmFilter) { alarms(filter: $f) { edges { node { id } } } }`;
      const visible = async (filter: Record<string, unknown>) => (await data("viewer", LIST, { f: filter })).alarms.edges.map((e: any) => e.node.id);
      expect(await visible({ machineId: globalId("Machine", machines.berlin) })).toContain(id);
      expect(await visible({ machineId: globalId("Machine", machines.berlin), includeShelved: false })).not.toContain(id);
      expect(await visible({ state: ["ACKNOWLEDGED", "CLEARED"] })).not.toContain(id);

      const unshelved = await data("operator", `mutation($id: ID!) { unshelveAlarm(id: $id) { alarm { shelved shelvedUntil shelvedBy } errors { message } } }`, { id });
      expect(unshelved.unshelveAlarm).toEqual({ alarm: { shelved: false, shelvedUntil: null, shelvedBy: null }, errors: [] });
      expect(await visible({ machineId: globalId("Machine", machines.berlin), includeShelved: false })).toContain(id);
    });
  });

  describe("tasks", () => {
    beforeAll(async () => {
      // No SECRETS_KEYS on this hub: an integration without secrets can still be made.
      const created = await data(
        "admin",
        `mutation { createIntegration(input: { kind: "builtin", name: "board", site: "${enterprise}/berlin" }) { integration { id kind secretKeys } errors { field message } } }`,
      );
      expect(created.createIntegration).toMatchObject({ integration: { kind: "builtin", secretKeys: [] }, errors: [] });
      boardId = Number(created.createIntegration.integration.id);
    });

    it("moves a built-in task: in progress puts the machine in maintenance, done acknowledges the alarm", async () => {
      const alarm = (await raiseTestAlarm(testDb.database.db, await seedRule(testDb.database.db, machines.berlin, "temperature"))).alarm;
      const task = await seedTask(testDb.database.db, { integrationId: boardId, machineId: machines.berlin, alarmId: alarm.id, title: "check the sealer" });
      const MACHINE = `query($id: ID!) { machine(id: $id) { state tasks { id status } } }`;
      const machineId = globalId("Machine", machines.berlin);
      expect((await data("viewer", MACHINE, { id: machineId })).machine.state).toBe("OFFLINE");

      const client = wsClient(endpoint, { authorization: `Bearer ${keys.viewer}` });
      try {
        const changes = firstResults(client, `subscription($m: ID) { taskChanged(machineId: $m) { id status statusChangedBy } }`, 1, { m: machineId });
        await new Promise((r) => setTimeout(r, 300));
        const SET = `mutation($id: ID!, $s: TaskStatus!) { setTaskStatus(id: $id, status: $s) { task { id status statusChangedBy integration { name kind } alarm { id state } } errors { field message } } }`;
        const started = await data("operator", SET, { id: String(task.id), s: "IN_PROGRESS" });
        expect(started.setTaskStatus).toEqual({
          task: { id: String(task.id), status: "IN_PROGRESS", statusChangedBy: identities.operator, integration: { name: "board", kind: "builtin" }, alarm: { id: String(alarm.id), state: "ACTIVE" } },
          errors: [],
        });
        expect(await changes).toEqual([{ data: { taskChanged: { id: String(task.id), status: "IN_PROGRESS", statusChangedBy: identities.operator } } }]);
        expect((await data("viewer", MACHINE, { id: machineId })).machine).toEqual({ state: "MAINTENANCE", tasks: [{ id: String(task.id), status: "IN_PROGRESS" }] });

        const done = await data("operator", SET, { id: String(task.id), s: "DONE" });
        expect(done.setTaskStatus.task).toMatchObject({ status: "DONE", alarm: { id: String(alarm.id), state: "ACKNOWLEDGED" } });
        expect((await data("viewer", MACHINE, { id: machineId })).machine.state).toBe("OFFLINE");
        const alarmTasks = await data("viewer", `query($f: AlarmFilter) { alarms(filter: $f) { edges { node { id acknowledgedBy tasks { id status } } } } }`, { f: { machineId } });
        expect(alarmTasks.alarms.edges.find((e: any) => e.node.id === String(alarm.id)).node).toEqual({
          id: String(alarm.id),
          acknowledgedBy: identities.operator,
          tasks: [{ id: String(task.id), status: "DONE" }],
        });
      } finally {
        await client.dispose();
      }
    });

    it("refuses status changes of other tools' tasks and hides other sites' tasks", async () => {
      const hook = await createIntegration(testDb.database.db, undefined, { kind: "webhook", name: "hook", site: `${enterprise}/berlin` }, { actor: "test" });
      const hookTask = await seedTask(testDb.database.db, { integrationId: hook.id, machineId: machines.berlin });
      const SET = `mutation($id: ID!) { setTaskStatus(id: $id, status: DONE) { task { id } errors { field message } } }`;
      expect((await data("operator", SET, { id: String(hookTask.id) })).setTaskStatus).toEqual({
        task: null,
        errors: [{ field: ["status"], message: "status of webhook tasks changes in the tool" }],
      });

      const parisBoard = await createIntegration(testDb.database.db, undefined, { kind: "builtin", name: "paris-board", site: `${enterprise}/paris` }, { actor: "test" });
      const parisTask = await seedTask(testDb.database.db, { integrationId: parisBoard.id, machineId: machines.paris });
      const machineless = await seedTask(testDb.database.db, { integrationId: boardId, machineId: null });
      expect((await data("operator", SET, { id: String(parisTask.id) })).setTaskStatus.errors).toEqual([{ field: ["id"], message: "no task has this id" }]);

      const LIST = `{ tasks(first: 100) { totalCount edges { node { id integration { kind } url externalId } } } }`;
      const seen = (await data("viewer", LIST)).tasks.edges.map((e: any) => Number(e.node.id));
      expect(seen).toContain(hookTask.id);
      expect(seen).not.toContain(parisTask.id);
      expect(seen).not.toContain(machineless.id);
      const everything = (await data("admin", LIST)).tasks;
      expect(everything.edges.map((e: any) => Number(e.node.id))).toEqual(expect.arrayContaining([hookTask.id, parisTask.id, machineless.id]));
      expect(everything.totalCount).toBe(everything.edges.length);
      const byIntegration = await data("admin", `query($i: ID) { tasks(filter: { integrationId: $i, status: [OPEN] }) { edges { node { id } } } }`, { i: String(hook.id) });
      expect(byIntegration.tasks.edges).toEqual([{ node: { id: String(hookTask.id) } }]);
    });
  });

  describe("dead letters, replay and integration health", () => {
    it("lists dead actions, replays one (audited, requeued), and shows the integration's health", async () => {
      const board = (await integrationByName(testDb.database.db, "board"))!;
      const dead = await seedDeadAction(testDb.database.db, board.id, machines.berlin);
      await testDb.database.query("update integration set last_success_at = now() - interval '1 hour', last_error_at = now(), last_error = 'rejected: no such project' where id = $1", [board.id]);

      const HEALTH = `{ integrations { name lastSuccessAt lastErrorAt lastError deadLetters pendingActions queueDepth } }`;
      const before = (await data("engineer", HEALTH)).integrations.find((i: any) => i.name === "board");
      expect(before).toMatchObject({ lastError: "rejected: no such project", deadLetters: 1, pendingActions: 0, queueDepth: expect.any(Number) });
      expect(Date.parse(before.lastErrorAt)).toBeGreaterThan(Date.parse(before.lastSuccessAt));

      const DEAD = `query($i: ID) { deadLetters(integrationId: $i) { totalCount edges { node { id status actionType actionKey errorKind lastError attempts event { id kind message } integration { name kind } } } } }`;
      const listed = (await data("engineer", DEAD, { i: String(board.id) })).deadLetters;
      expect(listed).toEqual({
        totalCount: 1,
        edges: [
          {
            node: {
              id: String(dead.id),
              status: "DEAD",
              actionType: "create_task",
              actionKey: "1.ticket",
              errorKind: "rejected",
              lastError: "400 project does not exist",
              attempts: 8,
              event: { id: String(dead.eventId), kind: "alarm.raised", message: "seeded event" },
              integration: { name: "board", kind: "builtin" },
            },
          },
        ],
      });

      const REPLAY = `mutation($id: ID!) { replayAction(id: $id) { action { id status attempts } errors { field message } } }`;
      expect((await data("engineer", REPLAY, { id: String(dead.id) })).replayAction).toEqual({ action: { id: String(dead.id), status: "PENDING", attempts: 0 }, errors: [] });
      expect((await data("engineer", REPLAY, { id: String(dead.id) })).replayAction.errors).toEqual([
        { field: ["id"], message: "only a dead action can be replayed; this one is pending" },
      ]);
      const { rows } = await testDb.database.query<{ actor: string; old_value: Record<string, unknown> }>(
        "select actor, old_value from audit_entry where action = 'action.replayed' and entity_id = $1",
        [String(dead.id)],
      );
      expect(rows).toEqual([{ actor: identities.engineer, old_value: { status: "dead", attempts: 8, errorKind: "rejected", lastError: "400 project does not exist" } }]);

      const queue = new Queue("actions-builtin", { connection: redis, prefix: jobsPrefix });
      try {
        const job = await queue.getJob(`action-${dead.id}`);
        expect(job?.data).toEqual({ eventActionId: dead.id });
      } finally {
        await queue.close();
      }
      const after = (await data("engineer", HEALTH)).integrations.find((i: any) => i.name === "board");
      expect(after).toMatchObject({ deadLetters: 0, pendingActions: 1 });
      expect(after.queueDepth).toBeGreaterThanOrEqual(1);
      expect((await data("engineer", DEAD, { i: String(board.id) })).deadLetters.totalCount).toBe(0);
    });

    it("hides other sites' dead letters", async () => {
      const parisBoard = (await integrationByName(testDb.database.db, "paris-board"))!;
      const dead = await seedDeadAction(testDb.database.db, parisBoard.id, machines.paris);
      expect((await data("engineer", `{ deadLetters { edges { node { id } } } }`)).deadLetters.edges.map((e: any) => e.node.id)).not.toContain(String(dead.id));
      expect((await data("admin", `{ deadLetters { edges { node { id } } } }`)).deadLetters.edges.map((e: any) => e.node.id)).toContain(String(dead.id));
      const replay = await data("engineer", `mutation($id: ID!) { replayAction(id: $id) { action { id } errors { message } } }`, { id: String(dead.id) });
      expect(replay.replayAction).toEqual({ action: null, errors: [{ message: "no action has this id" }] });
    });
  });

  describe("integration settings", () => {
    let keyedHub: Hub;
    let tool: Server;
    let toolUrl: string;

    beforeAll(async () => {
      // The "tool" refuses every call as unauthorized.
      tool = createServer((_req, res) => res.writeHead(401, { "content-type": "application/json" }).end('{"error":"bad signature"}'));
      await new Promise<void>((resolve) => tool.listen(0, "127.0.0.1", resolve));
      toolUrl = `http://127.0.0.1:${(tool.address() as AddressInfo).port}/hook`;
      const config = parseConfig({
        NODE_ENV: "test",
        DATABASE_URL: testDb.url,
        REDIS_URL: TEST_REDIS_URL,
        JOBS_PREFIX: jobsPrefix,
        SECRETS_KEYS: `k1:${randomBytes(32).toString("base64")}`,
        PORT: "0",
        SIMULATOR: "false",
        LOG_LEVEL: "silent",
        RATE_LIMIT_PER_MINUTE: "100000",
      });
      keyedHub = await startHub({ config, roles: ["api"], log: createLogger("silent") });
    });

    afterAll(async () => {
      await keyedHub?.stop();
      await new Promise((resolve) => tool?.close(resolve));
    });

    const CREATE = `mutation($input: CreateIntegrationInput!) { createIntegration(input: $input) { integration { id name } errors { field message } } }`;
    const site = () => `${enterprise}/berlin`;

    it("refuses secrets without a keyring, unknown kinds, and settings the connector's schema rejects", async () => {
      const secretless = await data("admin", CREATE, { input: { kind: "webhook", name: "needs-keys", site: site(), config: { url: toolUrl }, secrets: { secret: "0123456789abcdef" } } });
      expect(secretless.createIntegration.errors).toEqual([{ field: ["input", "secrets"], message: "SECRETS_KEYS is not configured: secrets cannot be stored" }]);

      const keyed = (query: string, variables: Record<string, unknown>) => graphql(keyedHub.graphqlUrl!, query, variables, keys.admin);
      const unknown = await keyed(CREATE, { input: { kind: "nosuch", name: "nosuch", site: site() } });
      expect(unknown.data!.createIntegration.errors).toEqual([
        { field: ["input", "kind"], message: 'no connector of kind "nosuch"; known kinds: builtin, jira, meistertask, redmine, servicenow, slack, teams, webhook' },
      ]);
      const incomplete = await keyed(CREATE, {
        input: { kind: "jira", name: "jira-incomplete", site: site(), config: { baseUrl: "https://jira.example.com", email: "bot@example.com" }, secrets: { apiToken: "x" }, verify: false },
      });
      expect(incomplete.data!.createIntegration.errors.map((e: { field: string[] }) => e.field)).toEqual([
        ["input", "config", "projectKey"],
        ["input", "secrets", "webhookSecret"],
      ]);
      expect(await integrationByName(testDb.database.db, "jira-incomplete")).toBeUndefined();
    });

    it("checks the settings with the tool unless verify is false, and saves nothing the tool refuses", async () => {
      const keyed = (query: string, variables: Record<string, unknown>) => graphql(keyedHub.graphqlUrl!, query, variables, keys.admin);
      const input = { kind: "webhook", name: "hook-verified", site: site(), config: { url: toolUrl }, secrets: { secret: "0123456789abcdef" } };
      const refused = await keyed(CREATE, { input });
      expect(refused.data!.createIntegration.integration).toBeNull();
      expect(refused.data!.createIntegration.errors).toEqual([{ field: ["input", "config"], message: expect.stringMatching(/^Webhook.* refused the settings \(auth\): /) }]);
      expect(await integrationByName(testDb.database.db, "hook-verified")).toBeUndefined();

      const skipped = await keyed(CREATE, { input: { ...input, verify: false } });
      expect(skipped.data!.createIntegration.errors).toEqual([]);
      const id = skipped.data!.createIntegration.integration.id;

      const UPDATE = `mutation($input: UpdateIntegrationInput!) { updateIntegration(input: $input) { integration { config } errors { field message } } }`;
      const badUpdate = await keyed(UPDATE, { input: { id, config: { url: "not a url" }, verify: false } });
      expect(badUpdate.data!.updateIntegration.errors).toEqual([{ field: ["input", "config", "url"], message: expect.any(String) }]);
      const refusedUpdate = await keyed(UPDATE, { input: { id, config: { url: `${toolUrl}/2` } } });
      expect(refusedUpdate.data!.updateIntegration.errors[0].field).toEqual(["input", "config"]);
      expect((await integrationByName(testDb.database.db, "hook-verified"))!.config).toEqual({ url: toolUrl });
    });
  });
});
