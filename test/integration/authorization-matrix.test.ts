import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { getNamedType, isObjectType, type GraphQLSchema } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { upsertDataPoint, upsertMachine } from "../../src/assets/asset.service.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { accessRoles, type AccessRole } from "../../src/auth/identity.js";
import { can, permissionMatrix, type Permission } from "../../src/auth/permissions.js";
import { parseConfig } from "../../src/config.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { buildGraphqlSchema } from "../../src/graphql/schema.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createLogger } from "../../src/log/logger.js";
import { createIntegration } from "../../src/integrations/integration.service.js";
import { createEndpoint } from "../../src/opcua/opcua-endpoint.service.js";
import { createSecretBox } from "../../src/secrets/secret-box.js";
import { createHubPubSub, type PubSubHandle } from "../../src/pubsub/pubsub.js";
import { saveAutomation } from "../../src/automations/automation.service.js";
import { startLot } from "../../src/lots/lot.service.js";
import { saveActuationLimits, saveMachineMethods } from "../../src/actuation/actuation-targets.store.js";
import { requestSetpoint } from "../../src/actuation/actuation.service.js";
import { AfterCommit } from "../../src/events/after-commit.js";
import { recordAudit } from "../../src/audit/audit.js";
import { hubKeyFor } from "../../src/audit/hub-key.js";
import { signRecord } from "../../src/signatures/signature.service.js";
import { raiseTestAlarm, seedDeadAction, seedRule, seedTask } from "../support/alarms.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { post, wsClient } from "../support/graphql.js";
import { sealerPath, sealerPerSitePlant } from "../support/plant.js";
import { TEST_REDIS_URL } from "../support/services.js";

/**
 * Walks every GraphQL operation × every role × a site inside and a site outside the caller's
 * scope, over the real server, and checks the outcome against the matrix in
 * src/auth/permissions.ts (the README shows the same table): FORBIDDEN without the permission,
 * invisible outside the scope, done inside it.
 */

type Target = "inside" | "outside";
type Outcome = "done" | "forbidden" | "invisible";

interface Caller {
  key: string;
  role: AccessRole;
  /** The identity id the audit trail records: key:<id>. */
  actor: string;
}

interface OperationCase {
  /** Root field, e.g. "Mutation.upsertMachine". */
  field: string;
  permission: Permission;
  /** Not tied to a site (the security log): allowed roles see it whatever their sites. */
  unscoped?: boolean;
  /** Performs the operation against the target site and reports what happened. */
  run(caller: Caller, target: Target): Promise<Outcome>;
}

const enterprise = `mx${randomBytes(3).toString("hex")}`;
const sites = { inside: "berlin", outside: "paris" } as const;
const sitePath = (target: Target) => `${enterprise}/${sites[target]}`;
const machinePath = (target: Target) => sealerPath(enterprise, sites[target]);
const plant = sealerPerSitePlant(enterprise, [sites.inside, sites.outside]);

describe("authorization matrix: every operation × role × site scope", () => {
  let testDb: TestDatabase;
  let hub: Hub;
  let endpoint: string;
  let pubsub: PubSubHandle;
  const machineIds = {} as Record<Target, number>;
  const callers = new Map<AccessRole, Caller>();
  const secretsKeys = `k1:${randomBytes(32).toString("base64")}`;
  const secretBox = createSecretBox(secretsKeys);
  const integrationIds = {} as Record<Target, number>;
  const boardIds = {} as Record<Target, number>;
  const alarmIds = {} as Record<Target, number>;
  const taskIds = {} as Record<Target, number>;
  const lotIds = {} as Record<Target, number>;

  /** A fresh running lot on the target machine, for the lot mutations. */
  async function expendableLot(target: Target): Promise<string> {
    const lot = await startLot(testDb.database.db, { id: machineIds[target], path: machinePath(target) }, { code: `lot-${randomBytes(4).toString("hex")}` }, { actor: "test" });
    return String(lot.id);
  }
  const actuationIds = {} as Record<Target, string>;
  const intervalIds = {} as Record<Target, number>;
  const siteIds = {} as Record<Target, number>;
  const matrixCalendar = { shifts: [{ name: "all-day", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:00", end: "23:59" }] };
  const matrixStateConfig = { idealCycleSeconds: 10, products: { "matrix-part": 10 } };
  /** Each save a change (an unchanged config or calendar is not saved again, nor audited). */
  let stateConfigSaves = 0;
  let calendarSaves = 0;
  const inADay = () => new Date(Date.now() + 86_400_000).toISOString();
  const lastDay = () => ({ from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date().toISOString() });
  const endpointIds = {} as Record<Target, number>;
  const dataPointIds = {} as Record<Target, number>;
  const dataDir = path.join(tmpdir(), `plantgraph-matrix-${randomBytes(4).toString("hex")}`);

  /** A fresh active alarm on the target machine (its own rule), for the alarm mutations. */
  async function expendableAlarm(target: Target): Promise<string> {
    const rule = await seedRule(testDb.database.db, machineIds[target], "temperature");
    return String((await raiseTestAlarm(testDb.database.db, rule)).alarm.id);
  }

  /** A write to the target machine's (critical) temperature point, waiting for approval, asked for by someone else. */
  async function pendingActuation(target: Target): Promise<string> {
    const result = await testDb.database.db.transaction((tx) =>
      requestSetpoint(tx, new AfterCommit(), { machineId: machineIds[target], point: "temperature", value: 1, reason: "matrix", dryRun: false, requester: { id: "key:someone-else", kind: "person" } }),
    );
    if (!result.ok || result.row.status !== "pending_approval") throw new Error(`seeding a pending write failed: ${JSON.stringify(result)}`);
    return String(result.row.id);
  }

  /** An expendable machine (and data point) in the target site, for the delete operations. */
  async function expendableMachine(target: Target): Promise<{ machineId: number; dataPointId: number }> {
    const [, , area, line] = machinePath(target).split("/") as [string, string, string, string];
    return testDb.database.db.transaction(async (tx) => {
      const machine = await upsertMachine(tx, { enterprise, site: sites[target], area, line, name: `tmp-${randomBytes(4).toString("hex")}` });
      const point = await upsertDataPoint(tx, machine.id, { name: "pressure", dataType: "float" });
      return { machineId: machine.id, dataPointId: point.id };
    });
  }

  async function call(caller: Caller, query: string, variables: Record<string, unknown> = {}) {
    const response = await post(endpoint, { query, variables }, { authorization: `Bearer ${caller.key}` });
    const body = (await response.json()) as { data?: Record<string, any>; errors?: { extensions?: { code?: string } }[] };
    if (body.errors?.some((e) => e.extensions?.code === "FORBIDDEN")) return { forbidden: true as const, body };
    if (body.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(body.errors)}`);
    return { forbidden: false as const, data: body.data! };
  }

  /** FORBIDDEN, or what `seen` makes of the data. */
  const outcome = async (
    caller: Caller,
    query: string,
    variables: Record<string, unknown>,
    seen: (data: Record<string, any>) => boolean,
  ): Promise<Outcome> => {
    const result = await call(caller, query, variables);
    if (result.forbidden) return "forbidden";
    return seen(result.data) ? "done" : "invisible";
  };

  const cases: OperationCase[] = [
    {
      field: "Query.enterprises",
      permission: "asset.read",
      run: (c, t) => outcome(c, `{ enterprises { name sites { name } } }`, {}, (d) =>
        d.enterprises.some((e: any) => e.name === enterprise && e.sites.some((s: any) => s.name === sites[t]))),
    },
    {
      field: "Query.machines",
      permission: "asset.read",
      run: (c, t) => outcome(c, `query($p: String) { machines(filter: { path: $p }) { edges { node { path } } } }`, { p: enterprise }, (d) =>
        d.machines.edges.some((e: any) => e.node.path === machinePath(t))),
    },
    {
      field: "Query.machine",
      permission: "asset.read",
      run: (c, t) => outcome(c, `query($id: ID!) { machine(id: $id) { path metrics { latest { value } } } }`, { id: globalId("Machine", machineIds[t]) }, (d) =>
        d.machine?.path === machinePath(t)),
    },
    {
      field: "Query.node",
      permission: "asset.read",
      run: (c, t) => outcome(c, `query($id: ID!) { node(id: $id) { id } }`, { id: globalId("Machine", machineIds[t]) }, (d) => d.node !== null),
    },
    {
      field: "Query.quarantine",
      permission: "quarantine.read",
      run: (c, t) => outcome(c, `query($topic: String) { quarantine(topic: $topic) { totalCount } }`, { topic: `${machinePath(t)}/unbound` }, (d) =>
        d.quarantine.totalCount === 1),
    },
    {
      field: "Query.quarantineSummary",
      permission: "quarantine.read",
      // The inside site's only refusal is UNKNOWN_TOPIC, the outside site's MALFORMED_PAYLOAD.
      run: (c, t) => outcome(c, `{ quarantineSummary { reason count } }`, {}, (d) =>
        d.quarantineSummary.some((r: any) => r.reason === (t === "inside" ? "UNKNOWN_TOPIC" : "MALFORMED_PAYLOAD"))),
    },
    {
      field: "Mutation.upsertMachine",
      permission: "asset.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: UpsertMachineInput!) { upsertMachine(input: $input) { machine { path } errors { message } } }`,
        { input: { enterprise, site: sites[t], area: "packaging", line: "line-1", name: `new-${randomBytes(3).toString("hex")}` } },
        (d) => d.upsertMachine.machine !== null,
      ),
    },
    {
      field: "Mutation.upsertDataPoint",
      permission: "asset.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: UpsertDataPointInput!) { upsertDataPoint(input: $input) { dataPoint { id } errors { message } } }`,
        { input: { machineId: globalId("Machine", machineIds[t]), name: `p${randomBytes(3).toString("hex")}` } },
        (d) => d.upsertDataPoint.dataPoint !== null,
      ),
    },
    {
      field: "Mutation.deleteMachine",
      permission: "asset.manage",
      run: async (c, t) => {
        const { machineId } = await expendableMachine(t);
        return outcome(c, `mutation($id: ID!) { deleteMachine(id: $id) { deletedId errors { message } } }`, { id: globalId("Machine", machineId) }, (d) =>
          d.deleteMachine.deletedId !== null);
      },
    },
    {
      field: "Mutation.deleteDataPoint",
      permission: "asset.manage",
      run: async (c, t) => {
        const { dataPointId } = await expendableMachine(t);
        return outcome(c, `mutation($id: ID!) { deleteDataPoint(id: $id) { deletedId errors { message } } }`, { id: globalId("DataPoint", dataPointId) }, (d) =>
          d.deleteDataPoint.deletedId !== null);
      },
    },
    {
      field: "Query.apiKeys",
      permission: "apikey.manage",
      run: (c, t) => outcome(c, `{ apiKeys { name sites } }`, {}, (d) => d.apiKeys.some((k: any) => k.name === `key-of-${t}`)),
    },
    {
      field: "Mutation.createApiKey",
      permission: "apikey.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id } errors { message } } }`,
        { input: { name: "made-in-matrix", role: "VIEWER", sites: [sitePath(t)] } },
        (d) => d.createApiKey.apiKey !== null,
      ),
    },
    {
      field: "Mutation.revokeApiKey",
      permission: "apikey.manage",
      run: async (c, t) => {
        const { row } = await createApiKey(testDb.database.db, { name: "expendable", role: "viewer", sites: [sitePath(t)], createdBy: "test" });
        return outcome(c, `mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } errors { message } } }`, { id: String(row.id) }, (d) =>
          d.revokeApiKey.apiKey !== null);
      },
    },
    {
      field: "Query.securityEvents",
      permission: "security_event.read",
      unscoped: true,
      run: (c) => outcome(c, `{ securityEvents(first: 5) { edges { node { action actor } } } }`, {}, (d) => Array.isArray(d.securityEvents.edges)),
    },
    {
      field: "Query.integrations",
      permission: "integration.read",
      run: (c, t) => outcome(c, `{ integrations { name secretKeys } }`, {}, (d) => d.integrations.some((i: any) => i.name === `integration-of-${t}`)),
    },
    {
      field: "Mutation.createIntegration",
      permission: "integration.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: CreateIntegrationInput!) { createIntegration(input: $input) { integration { id } errors { message } } }`,
        { input: { kind: "webhook", name: `made-in-matrix-${randomBytes(3).toString("hex")}`, site: sitePath(t), config: { url: "https://example.com/hook" }, secrets: { secret: "0123456789abcdef" }, verify: false } },
        (d) => d.createIntegration.integration !== null,
      ),
    },
    {
      field: "Mutation.updateIntegration",
      permission: "integration.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: UpdateIntegrationInput!) { updateIntegration(input: $input) { integration { id } errors { message } } }`,
        { input: { id: String(integrationIds[t]), config: { url: `https://example.com/${randomBytes(3).toString("hex")}` }, verify: false } },
        (d) => d.updateIntegration.integration !== null,
      ),
    },
    {
      field: "Mutation.deleteIntegration",
      permission: "integration.manage",
      run: async (c, t) => {
        const row = await createIntegration(testDb.database.db, secretBox, { kind: "webhook", name: `expendable-${randomBytes(3).toString("hex")}`, site: sitePath(t) }, { actor: "test" });
        return outcome(c, `mutation($id: ID!) { deleteIntegration(id: $id) { deletedId errors { message } } }`, { id: String(row.id) }, (d) =>
          d.deleteIntegration.deletedId !== null);
      },
    },
    {
      field: "Query.opcuaEndpoints",
      permission: "opcua.read",
      run: (c, t) => outcome(c, `{ opcuaEndpoints { name secretKeys gaps { startedAt } } }`, {}, (d) => d.opcuaEndpoints.some((e: any) => e.name === `endpoint-of-${t}`)),
    },
    {
      field: "Query.browse",
      permission: "opcua.manage",
      // Nothing listens at the endpoint: a visible endpoint answers "cannot connect", an invisible one "no endpoint".
      run: (c, t) => outcome(c, `query($id: ID!) { browse(endpointId: $id) { nodes { nodeId } errors { message } } }`, { id: String(endpointIds[t]) }, (d) =>
        d.browse.errors.every((e: any) => e.message !== "no OPC UA endpoint has this id")),
    },
    {
      field: "Mutation.createOpcuaEndpoint",
      permission: "opcua.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: CreateOpcuaEndpointInput!) { createOpcuaEndpoint(input: $input) { endpoint { id } errors { message } } }`,
        { input: { name: `made-in-matrix-${randomBytes(3).toString("hex")}`, site: sitePath(t), url: "opc.tcp://127.0.0.1:1", securityMode: "NONE" } },
        (d) => d.createOpcuaEndpoint.endpoint !== null,
      ),
    },
    {
      field: "Mutation.updateOpcuaEndpoint",
      permission: "opcua.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: UpdateOpcuaEndpointInput!) { updateOpcuaEndpoint(input: $input) { endpoint { id } errors { message } } }`,
        { input: { id: String(endpointIds[t]), publishingIntervalMs: 500 + Math.floor(Math.random() * 500) } },
        (d) => d.updateOpcuaEndpoint.endpoint !== null,
      ),
    },
    {
      field: "Mutation.deleteOpcuaEndpoint",
      permission: "opcua.manage",
      run: async (c, t) => {
        const row = await createEndpoint(testDb.database.db, secretBox, { name: `expendable-${randomBytes(3).toString("hex")}`, site: sitePath(t), url: "opc.tcp://127.0.0.1:1", securityMode: "None" }, {}, { actor: "test" });
        return outcome(c, `mutation($id: ID!) { deleteOpcuaEndpoint(id: $id) { deletedId errors { message } } }`, { id: String(row.id) }, (d) =>
          d.deleteOpcuaEndpoint.deletedId !== null);
      },
    },
    {
      field: "Mutation.setOpcuaBinding",
      permission: "asset.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: SetOpcuaBindingInput!) { setOpcuaBinding(input: $input) { dataPoint { opcua { nodeId } } errors { message } } }`,
        { input: { dataPointId: globalId("DataPoint", dataPointIds[t]), endpointId: String(endpointIds[t]), nodeId: `ns=2;s=${randomBytes(3).toString("hex")}` } },
        (d) => d.setOpcuaBinding.dataPoint !== null,
      ),
    },
    {
      field: "Mutation.removeOpcuaBinding",
      permission: "asset.manage",
      run: (c, t) => outcome(c, `mutation($id: ID!) { removeOpcuaBinding(dataPointId: $id) { dataPoint { id } errors { message } } }`, { id: globalId("DataPoint", dataPointIds[t]) }, (d) =>
        d.removeOpcuaBinding.dataPoint !== null),
    },
    {
      field: "Subscription.readingAdded",
      permission: "telemetry.read",
      run: (c, t) =>
        subscriptionOutcome(c, `subscription($id: ID!) { readingAdded(machineId: $id) { value } }`, { id: globalId("Machine", machineIds[t]) }, () =>
          pubsub.pubsub.publish("READING_ADDED", machineIds[t], [
            { dataPointId: 1, machineId: machineIds[t], metric: "temperature", value: 1, ts: new Date().toISOString(), quality: "good" },
          ]),
        ),
    },
    {
      field: "Query.rules",
      permission: "asset.read",
      run: (c, t) => outcome(c, `query($id: ID) { rules(machineId: $id) { name dataPoint } }`, { id: globalId("Machine", machineIds[t]) }, (d) =>
        d.rules.some((r: any) => r.name === `rule-of-${t}` && r.dataPoint === "temperature")),
    },
    {
      field: "Mutation.saveRule",
      permission: "rule.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: SaveRuleInput!) { saveRule(input: $input) { rule { id } errors { message } } }`,
        { input: { machineId: globalId("Machine", machineIds[t]), dataPoint: "temperature", name: `r-${randomBytes(3).toString("hex")}`, params: { kind: "stale", afterSeconds: 60 } } },
        (d) => d.saveRule.rule !== null,
      ),
    },
    {
      field: "Mutation.deleteRule",
      permission: "rule.manage",
      run: async (c, t) => {
        const rule = await seedRule(testDb.database.db, machineIds[t], "temperature");
        return outcome(c, `mutation($id: ID!) { deleteRule(id: $id) { deletedId errors { message } } }`, { id: String(rule.id) }, (d) => d.deleteRule.deletedId !== null);
      },
    },
    {
      field: "Query.alarms",
      permission: "alarm.read",
      run: (c, t) => outcome(c, `query($m: ID) { alarms(filter: { machineId: $m, state: [ACTIVE] }, first: 50) { edges { node { id } } } }`, { m: globalId("Machine", machineIds[t]) }, (d) =>
        d.alarms.edges.some((e: any) => e.node.id === String(alarmIds[t]))),
    },
    {
      field: "Mutation.acknowledgeAlarm",
      permission: "alarm.acknowledge",
      run: async (c, t) => outcome(c, `mutation($id: ID!) { acknowledgeAlarm(id: $id, note: "seen") { alarm { state } errors { message } } }`, { id: await expendableAlarm(t) }, (d) =>
        d.acknowledgeAlarm.alarm?.state === "ACKNOWLEDGED"),
    },
    {
      field: "Mutation.shelveAlarm",
      permission: "alarm.acknowledge",
      run: async (c, t) => outcome(
        c,
        `mutation($id: ID!, $until: DateTime!) { shelveAlarm(id: $id, until: $until, reason: "sensor swap") { alarm { shelved } errors { message } } }`,
        { id: await expendableAlarm(t), until: new Date(Date.now() + 3600_000).toISOString() },
        (d) => d.shelveAlarm.alarm?.shelved === true,
      ),
    },
    {
      field: "Mutation.unshelveAlarm",
      permission: "alarm.acknowledge",
      run: async (c, t) => outcome(c, `mutation($id: ID!) { unshelveAlarm(id: $id) { alarm { shelved } errors { message } } }`, { id: await expendableAlarm(t) }, (d) =>
        d.unshelveAlarm.alarm?.shelved === false),
    },
    {
      field: "Subscription.alarmChanged",
      permission: "alarm.read",
      run: (c, t) =>
        subscriptionOutcome(c, `subscription($id: ID) { alarmChanged(machineId: $id) { id } }`, { id: globalId("Machine", machineIds[t]) }, () =>
          pubsub.pubsub.publish("ALARM_CHANGED", { alarmId: alarmIds[t], machineId: machineIds[t], state: "active", at: new Date().toISOString() }),
        ),
    },
    {
      field: "Query.automations",
      permission: "automation.read",
      unscoped: true,
      run: (c) => outcome(c, `{ automations { name trigger } }`, {}, (d) => d.automations.some((a: any) => a.name === "matrix-automation" && a.trigger === "ALARM_RAISED")),
    },
    {
      field: "Mutation.saveAutomation",
      permission: "automation.manage",
      unscoped: true,
      run: (c) => outcome(
        c,
        `mutation($input: SaveAutomationInput!) { saveAutomation(input: $input) { automation { id } errors { message } } }`,
        { input: { name: `a-${randomBytes(3).toString("hex")}`, trigger: "ALARM_RAISED", actions: [{ type: "create_task", key: "t", integration: "board", title: "x" }] } },
        (d) => d.saveAutomation.automation !== null,
      ),
    },
    {
      field: "Mutation.deleteAutomation",
      permission: "automation.manage",
      unscoped: true,
      run: async (c) => {
        const { row } = await saveAutomation(testDb.database.db, { name: `x-${randomBytes(3).toString("hex")}`, trigger: "alarm.raised", actions: [{ type: "notify", key: "n", integration: "board", text: "x" }] }, "test");
        return outcome(c, `mutation($id: ID!) { deleteAutomation(id: $id) { deletedId errors { message } } }`, { id: String(row.id) }, (d) => d.deleteAutomation.deletedId !== null);
      },
    },
    {
      field: "Query.tasks",
      permission: "task.read",
      run: (c, t) => outcome(c, `query($a: ID) { tasks(filter: { alarmId: $a }) { edges { node { id } } } }`, { a: String(alarmIds[t]) }, (d) =>
        d.tasks.edges.some((e: any) => e.node.id === String(taskIds[t]))),
    },
    {
      field: "Mutation.setTaskStatus",
      permission: "task.update",
      run: async (c, t) => {
        const task = await seedTask(testDb.database.db, { integrationId: boardIds[t], machineId: machineIds[t] });
        return outcome(c, `mutation($id: ID!) { setTaskStatus(id: $id, status: CANCELLED) { task { status } errors { message } } }`, { id: String(task.id) }, (d) =>
          d.setTaskStatus.task?.status === "CANCELLED");
      },
    },
    {
      field: "Subscription.taskChanged",
      permission: "task.read",
      run: (c, t) =>
        subscriptionOutcome(c, `subscription($id: ID) { taskChanged(machineId: $id) { id } }`, { id: globalId("Machine", machineIds[t]) }, () =>
          pubsub.pubsub.publish("TASK_CHANGED", { taskId: taskIds[t], machineId: machineIds[t], alarmId: null, integrationId: boardIds[t], status: "open", at: new Date().toISOString() }),
        ),
    },
    {
      field: "Query.kpis",
      permission: "telemetry.read",
      run: (c, t) => outcome(c, `query($a: ID!, $from: DateTime!, $to: DateTime!) { kpis(assetId: $a, from: $from, to: $to) { plannedBusyTime } }`, { a: globalId("Machine", machineIds[t]), ...lastDay() }, (d) =>
        d.kpis !== null && d.kpis.plannedBusyTime > 0),
    },
    {
      field: "Query.shiftKpis",
      permission: "telemetry.read",
      run: (c, t) => outcome(c, `query($a: ID!, $d: String!) { shiftKpis(assetId: $a, date: $d) { shift } }`, { a: globalId("Machine", machineIds[t]), d: new Date().toISOString().slice(0, 10) }, (d) =>
        d.shiftKpis.length === 1),
    },
    {
      field: "Mutation.setDowntimeReason",
      permission: "downtime.annotate",
      run: (c, t) => outcome(c, `mutation($i: ID!) { setDowntimeReason(intervalId: $i, reason: "jam") { interval { reason } errors { message } } }`, { i: String(intervalIds[t]) }, (d) =>
        d.setDowntimeReason.interval?.reason === "jam"),
    },
    {
      field: "Mutation.recordScrap",
      permission: "quality.report",
      run: (c, t) => outcome(c, `mutation($m: ID!) { recordScrap(machineId: $m, scrap: 2) { scrap errors { message } } }`, { m: globalId("Machine", machineIds[t]) }, (d) =>
        d.recordScrap.scrap === 2),
    },
    {
      field: "Mutation.saveShiftCalendar",
      permission: "calendar.manage",
      run: (c, t) => outcome(c, `mutation($a: ID!, $c: JSONObject!) { saveShiftCalendar(assetId: $a, calendar: $c) { calendar errors { message } } }`, { a: globalId("Site", siteIds[t]), c: { ...matrixCalendar, holidays: [`2030-01-${String(1 + (++calendarSaves % 28)).padStart(2, "0")}`] } }, (d) =>
        d.saveShiftCalendar.calendar !== null),
    },
    {
      field: "Mutation.saveMachineStateConfig",
      permission: "asset.manage",
      run: (c, t) => outcome(c, `mutation($m: ID!, $c: JSONObject!) { saveMachineStateConfig(machineId: $m, config: $c) { config errors { message } } }`, { m: globalId("Machine", machineIds[t]), c: { ...matrixStateConfig, idealCycleSeconds: 10 + ++stateConfigSaves } }, (d) =>
        d.saveMachineStateConfig.config !== null),
    },
    {
      field: "Subscription.machineStateChanged",
      permission: "telemetry.read",
      run: (c, t) =>
        subscriptionOutcome(c, `subscription($id: ID) { machineStateChanged(machineId: $id) { state } }`, { id: globalId("Machine", machineIds[t]) }, () =>
          pubsub.pubsub.publish("MACHINE_STATE_CHANGED", { machineId: machineIds[t], intervalId: intervalIds[t], state: "down", reason: "", source: "test", since: new Date().toISOString() }),
        ),
    },
    {
      field: "Query.productionOrders",
      permission: "order.read",
      run: (c, t) => outcome(c, `query($a: ID!) { productionOrders(assetId: $a) { number } }`, { a: globalId("Machine", machineIds[t]) }, (d) =>
        d.productionOrders.some((o: any) => o.number === `order-of-${t}-${enterprise}`)),
    },
    {
      field: "Mutation.saveProductionOrder",
      permission: "order.manage",
      run: (c, t) => outcome(
        c,
        `mutation($input: SaveProductionOrderInput!) { saveProductionOrder(input: $input) { order { number } errors { message } } }`,
        { input: { number: `o-${randomBytes(4).toString("hex")}`, product: "matrix-part", quantity: 1, dueAt: inADay(), machineId: globalId("Machine", machineIds[t]) } },
        (d) => d.saveProductionOrder.order !== null,
      ),
    },
    {
      field: "Mutation.importProductionOrders",
      permission: "order.manage",
      run: (c, t) => outcome(c, `mutation($csv: String!) { importProductionOrders(csv: $csv) { orders { number } errors { message } } }`, { csv: `number,product,quantity,due,machine\ni-${randomBytes(4).toString("hex")},matrix-part,1,${inADay()},${machinePath(t)}\n` }, (d) =>
        d.importProductionOrders.orders.length === 1),
    },
    {
      field: "Query.capacity",
      permission: "order.read",
      run: (c, t) => outcome(c, `query($a: ID!) { capacity(assetId: $a, horizon: WEEK) { machines { spareSeconds } } }`, { a: globalId("Machine", machineIds[t]) }, (d) => d.capacity?.machines.length === 1),
    },
    {
      field: "Query.suggestMachines",
      permission: "order.read",
      run: (c, t) => outcome(c, `query($due: DateTime!) { suggestMachines(product: "matrix-part", quantity: 1, due: $due) { machine { path } } }`, { due: inADay() }, (d) =>
        d.suggestMachines.some((s: any) => s.machine.path === machinePath(t))),
    },
    {
      field: "Query.deadLetters",
      permission: "integration.read",
      run: (c, t) => outcome(c, `query($id: ID) { deadLetters(integrationId: $id) { totalCount } }`, { id: String(boardIds[t]) }, (d) => d.deadLetters.totalCount > 0),
    },
    {
      field: "Mutation.replayAction",
      permission: "integration.manage",
      run: async (c, t) => {
        const action = await seedDeadAction(testDb.database.db, boardIds[t], machineIds[t]);
        return outcome(c, `mutation($id: ID!) { replayAction(id: $id) { action { status } errors { message } } }`, { id: String(action.id) }, (d) =>
          d.replayAction.action?.status === "PENDING");
      },
    },
    {
      field: "Query.lot",
      permission: "trace.read",
      run: (c, t) => outcome(c, `query($id: ID!) { lot(id: $id) { code parameters { dataPoint } operators { identity } } }`, { id: String(lotIds[t]) }, (d) => d.lot !== null),
    },
    {
      field: "Query.lots",
      permission: "trace.read",
      run: (c, t) => outcome(c, `query($code: String) { lots(filter: { code: $code }) { totalCount } }`, { code: `lot-of-${t}` }, (d) => d.lots.totalCount === 1),
    },
    {
      field: "Query.trace",
      permission: "trace.read",
      run: (c, t) => outcome(c, `query($id: ID!) { trace(lotId: $id, direction: BACKWARD) { lots { depth } } }`, { id: String(lotIds[t]) }, (d) => d.trace !== null),
    },
    {
      field: "Mutation.startLot",
      permission: "lot.record",
      run: (c, t) => outcome(
        c,
        `mutation($input: StartLotInput!) { startLot(input: $input) { lot { id } errors { message } } }`,
        { input: { machineId: globalId("Machine", machineIds[t]), code: `new-${randomBytes(4).toString("hex")}` } },
        (d) => d.startLot.lot !== null,
      ),
    },
    {
      field: "Mutation.endLot",
      permission: "lot.record",
      run: async (c, t) => outcome(c, `mutation($id: ID!) { endLot(input: { id: $id }) { lot { status } errors { message } } }`, { id: await expendableLot(t) }, (d) =>
        d.endLot.lot?.status === "ENDED"),
    },
    {
      field: "Mutation.addLotComponent",
      permission: "lot.record",
      run: async (c, t) => outcome(
        c,
        `mutation($lot: ID!, $parent: ID!) { addLotComponent(input: { lotId: $lot, parentLotId: $parent }) { lot { id } errors { message } } }`,
        { lot: await expendableLot(t), parent: String(lotIds[t]) },
        (d) => d.addLotComponent.lot !== null,
      ),
    },
    {
      field: "Mutation.recordQualityResult",
      permission: "lot.record",
      run: (c, t) => outcome(
        c,
        `mutation($id: ID!) { recordQualityResult(input: { lotId: $id, characteristic: "weight", passed: true }) { lot { id } errors { message } } }`,
        { id: String(lotIds[t]) },
        (d) => d.recordQualityResult.lot !== null,
      ),
    },
    {
      field: "Mutation.setLotHold",
      permission: "lot.hold",
      run: async (c, t) => outcome(c, `mutation($id: ID!) { setLotHold(input: { id: $id, onHold: true, reason: "audit" }) { lot { onHold } errors { message } } }`, { id: await expendableLot(t) }, (d) =>
        d.setLotHold.lot?.onHold === true),
    },
    {
      field: "Subscription.traceUpdated",
      permission: "trace.read",
      run: (c, t) =>
        subscriptionOutcome(c, `subscription($id: ID) { traceUpdated(lotId: $id) { id } }`, { id: String(lotIds[t]) }, () =>
          pubsub.pubsub.publish("TRACE_UPDATED", { lotIds: [lotIds[t]], at: new Date().toISOString() }),
        ),
    },
    {
      field: "Query.actuations",
      permission: "actuation.read",
      run: (c, t) => outcome(c, `query($m: ID) { actuations(filter: { machineId: $m }) { edges { node { id } } } }`, { m: globalId("Machine", machineIds[t]) }, (d) =>
        d.actuations.edges.some((e: any) => e.node.id === actuationIds[t])),
    },
    {
      field: "Query.actuation",
      permission: "actuation.read",
      run: (c, t) => outcome(c, `query($id: ID!) { actuation(id: $id) { id machine { path } } }`, { id: actuationIds[t] }, (d) => d.actuation?.machine.path === machinePath(t)),
    },
    {
      field: "Subscription.actuationChanged",
      permission: "actuation.read",
      run: (c, t) =>
        subscriptionOutcome(c, `subscription($id: ID) { actuationChanged(machineId: $id) { id } }`, { id: globalId("Machine", machineIds[t]) }, () =>
          pubsub.pubsub.publish("ACTUATION_CHANGED", { actuationId: Number(actuationIds[t]), machineId: machineIds[t], status: "pending_approval", at: new Date().toISOString() }),
        ),
    },
    {
      field: "Mutation.writeSetpoint",
      permission: "machine.actuate",
      run: (c, t) => outcome(
        c,
        `mutation($input: WriteSetpointInput!) { writeSetpoint(input: $input) { actuation { status } errors { message } } }`,
        { input: { machineId: globalId("Machine", machineIds[t]), point: "temperature", value: 1, reason: "matrix", dryRun: true } },
        (d) => d.writeSetpoint.actuation?.status === "DRY_RUN",
      ),
    },
    {
      field: "Mutation.callMachineMethod",
      permission: "machine.actuate",
      run: (c, t) => outcome(
        c,
        `mutation($input: CallMachineMethodInput!) { callMachineMethod(input: $input) { actuation { status } errors { message } } }`,
        { input: { machineId: globalId("Machine", machineIds[t]), method: "reset", reason: "matrix", dryRun: true } },
        (d) => d.callMachineMethod.actuation?.status === "DRY_RUN",
      ),
    },
    {
      field: "Mutation.approveActuation",
      permission: "actuation.approve",
      run: async (c, t) => outcome(c, `mutation($id: ID!) { approveActuation(id: $id) { actuation { status } errors { message } } }`, { id: await pendingActuation(t) }, (d) =>
        d.approveActuation.actuation?.status === "APPROVED"),
    },
    {
      field: "Mutation.rejectActuation",
      permission: "actuation.approve",
      run: async (c, t) => outcome(c, `mutation($id: ID!) { rejectActuation(id: $id, reason: "matrix") { actuation { status } errors { message } } }`, { id: await pendingActuation(t) }, (d) =>
        d.rejectActuation.actuation?.status === "REFUSED"),
    },
    {
      field: "Query.auditEntries",
      permission: "audit.read",
      unscoped: true,
      run: (c) => outcome(c, `{ auditEntries(first: 1) { totalCount edges { node { hash } } } }`, {}, (d) => d.auditEntries.totalCount > 0),
    },
    {
      field: "Query.verifyAuditTrail",
      permission: "audit.read",
      unscoped: true,
      run: (c) => outcome(c, `{ verifyAuditTrail { ok records } }`, {}, (d) => d.verifyAuditTrail.ok === true && d.verifyAuditTrail.records > 0),
    },
    {
      field: "Mutation.exportAuditTrail",
      permission: "audit.export",
      unscoped: true,
      run: (c) => outcome(
        c,
        `mutation($from: DateTime!, $to: DateTime!) { exportAuditTrail(from: $from, to: $to) { export { records verified } errors { message } } }`,
        { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() },
        (d) => d.exportAuditTrail.export?.verified === true,
      ),
    },
    {
      field: "Subscription.auditAppended",
      permission: "audit.read",
      unscoped: true,
      run: (c) =>
        subscriptionOutcome(c, `subscription { auditAppended(entityType: "matrix") { action } }`, {}, () => {
          void recordAudit(testDb.database.db, { actor: "test", action: "rule.updated", entityType: "matrix", entityId: 1 });
        }),
    },
    {
      field: "Mutation.signRecord",
      permission: "record.sign",
      run: (c, t) => outcome(
        c,
        `mutation($input: SignRecordInput!) { signRecord(input: $input) { signature { valid meaning } errors { message } } }`,
        { input: { recordType: "TASK", recordId: String(taskIds[t]), meaning: "REVIEWED", credential: c.key } },
        (d) => d.signRecord.signature?.valid === true,
      ),
    },
    {
      field: "Mutation.exportLotRecord",
      permission: "audit.export",
      run: (c, t) => outcome(c, `mutation($id: ID!) { exportLotRecord(lotId: $id) { export { lots } errors { message } } }`, { id: String(lotIds[t]) }, (d) =>
        d.exportLotRecord.export?.lots >= 1),
    },
    {
      field: "Query.signatures",
      permission: "signature.read",
      run: (c, t) => outcome(c, `query($id: ID!) { signatures(recordType: ALARM, recordId: $id) { valid signerName } }`, { id: String(alarmIds[t]) }, (d) =>
        d.signatures.length > 0 && d.signatures[0].valid === true),
    },
  ];

  /** Over graphql-ws: what `publish` announces for the target arrives, or the subscription is refused. */
  async function subscriptionOutcome(caller: Caller, query: string, variables: Record<string, unknown>, publish: () => void): Promise<Outcome> {
    const client = wsClient(endpoint, { authorization: `Bearer ${caller.key}` });
    try {
      return await new Promise<Outcome>((resolve, reject) => {
        const publisher = setInterval(publish, 50);
        const finish = (value: Outcome | Error) => {
          clearInterval(publisher);
          unsubscribe();
          if (value instanceof Error) reject(value);
          else resolve(value);
        };
        const unsubscribe = client.subscribe(
          { query, variables },
          {
            next: (result) => {
              const code = result.errors?.[0]?.extensions?.code;
              if (code === "FORBIDDEN") finish("forbidden");
              else if (code === "BAD_USER_INPUT") finish("invisible");
              else if (result.errors) finish(new Error(JSON.stringify(result.errors)));
              else finish("done");
            },
            error: (error) => {
              const errors = error as { extensions?: { code?: string } }[];
              const code = Array.isArray(errors) ? errors[0]?.extensions?.code : undefined;
              finish(code === "FORBIDDEN" ? "forbidden" : code === "BAD_USER_INPUT" ? "invisible" : new Error(JSON.stringify(error)));
            },
            complete: () => {},
          },
        );
      });
    } finally {
      await client.dispose();
    }
  }

  beforeAll(async () => {
    testDb = await createTestDatabase("authz_matrix");
    const log = createLogger("silent");
    await applyPlantText(testDb.database, plant, "matrix.yaml", log);
    for (const target of ["inside", "outside"] as const) machineIds[target] = (await machineByPath(testDb.database.db, machinePath(target)))!.id;
    await testDb.database.query(
      `insert into quarantine (source, topic, payload, reason, detail) values
       ('mqtt', $1, '1', 'unknown_topic', 'no data point is bound'), ('mqtt', $2, 'x', 'malformed_payload', 'not JSON')`,
      [`${machinePath("inside")}/unbound`, `${machinePath("outside")}/unbound`],
    );
    for (const target of ["inside", "outside"] as const) {
      await createApiKey(testDb.database.db, { name: `key-of-${target}`, role: "viewer", sites: [sitePath(target)], createdBy: "test" });
    }
    for (const role of accessRoles) {
      const { key, row } = await createApiKey(testDb.database.db, { name: `matrix-${role}`, role, sites: [sitePath("inside")], createdBy: "test" });
      callers.set(role, { key, role, actor: `key:${row.id}` });
    }
    for (const target of ["inside", "outside"] as const) {
      const row = await createIntegration(
        testDb.database.db,
        secretBox,
        { kind: "webhook", name: `integration-of-${target}`, site: sitePath(target), config: { url: "https://example.com/hook" }, secrets: { secret: "0123456789abcdef" } },
        { actor: "test" },
      );
      integrationIds[target] = row.id;
      const board = await createIntegration(testDb.database.db, undefined, { kind: "builtin", name: `board-of-${target}`, site: sitePath(target) }, { actor: "test" });
      boardIds[target] = board.id;
      const rule = await seedRule(testDb.database.db, machineIds[target], "temperature", `rule-of-${target}`);
      alarmIds[target] = (await raiseTestAlarm(testDb.database.db, rule)).alarm.id;
      taskIds[target] = (await seedTask(testDb.database.db, { integrationId: board.id, machineId: machineIds[target], alarmId: alarmIds[target] })).id;
      await seedDeadAction(testDb.database.db, board.id, machineIds[target]);
      lotIds[target] = (await startLot(testDb.database.db, { id: machineIds[target], path: machinePath(target) }, { code: `lot-of-${target}` }, { actor: "test" })).id;
      const { rows: [point] } = await testDb.database.query<{ id: number }>(`select id from data_point where machine_id = $1 and name = 'temperature'`, [machineIds[target]]);
      await testDb.database.db.transaction((tx) => saveActuationLimits(tx, point!.id, { transport: "mqtt", topic: `${machinePath(target)}/set`, critical: true, allowAutomation: false, tolerance: 0 }));
      actuationIds[target] = await pendingActuation(target);
      await testDb.database.db.transaction((tx) =>
        saveMachineMethods(tx, machineIds[target], [{ name: "reset", transport: "mqtt", topic: `${machinePath(target)}/reset`, critical: false, allowAutomation: false }], false, () => {}),
      );
      const machineId = machineIds[target];
      const { rows } = await testDb.database.query<{ id: string; site_id: number }>(
        `with down as (insert into machine_state_interval (machine_id, state, reason, source, started_at, ended_at) values ($1, 'down', '', 'test', now() - interval '1 hour', now() - interval '30 minutes') returning id),
              idle as (insert into machine_state_interval (machine_id, state, reason, source, started_at) values ($1, 'idle', '', 'test', now() - interval '30 minutes'))
         select down.id, a.site_id from down, machine m join line l on l.id = m.line_id join area a on a.id = l.area_id where m.id = $1`,
        [machineId],
      );
      intervalIds[target] = Number(rows[0]!.id);
      siteIds[target] = rows[0]!.site_id;
      await testDb.database.query(`insert into shift_calendar (site_id, spec) values ($1, $2)`, [siteIds[target], JSON.stringify(matrixCalendar)]);
      await testDb.database.query(`insert into machine_state_config (machine_id, config) values ($1, $2)`, [machineId, JSON.stringify(matrixStateConfig)]);
      await testDb.database.query(`insert into production_order (number, product, quantity, due_at, machine_id) values ($1, 'matrix-part', 10, now() + interval '1 day', $2)`, [`order-of-${target}-${enterprise}`, machineId]);
      const opcua = { name: `endpoint-of-${target}`, site: sitePath(target), url: "opc.tcp://127.0.0.1:1", securityMode: "None" as const };
      endpointIds[target] = (await createEndpoint(testDb.database.db, secretBox, opcua, {}, { actor: "test" })).id;
      dataPointIds[target] = (await testDb.database.query<{ id: number }>("select id from data_point where machine_id = $1", [machineIds[target]])).rows[0]!.id;
      await signRecord(testDb.database.db, await hubKeyFor({ audit: { keyFile: path.join(dataDir, "keys", "audit-ed25519.pem") } }), {
        recordType: "alarm",
        recordId: alarmIds[target],
        meaning: "approved",
        signer: { id: "user:qa", name: "Quality Assurance" },
      });
    }
    await saveAutomation(testDb.database.db, { name: "matrix-automation", trigger: "alarm.raised", actions: [{ type: "create_task", key: "t", integration: "board", title: "x" }] }, "test");
    const config = parseConfig({
      SECRETS_KEYS: secretsKeys,
      NODE_ENV: "test",
      DATABASE_URL: testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      PORT: "0",
      SIMULATOR: "false",
      LOG_LEVEL: "silent",
      RATE_LIMIT_PER_MINUTE: "100000",
      DATA_DIR: dataDir,
      JOBS_PREFIX: `matrix${randomBytes(3).toString("hex")}`,
    });
    hub = await startHub({ config, roles: ["api"], log });
    endpoint = hub.graphqlUrl!;
    pubsub = createHubPubSub(TEST_REDIS_URL, undefined, config.jobs.prefix);
  });

  afterAll(async () => {
    await pubsub?.close();
    await hub?.stop();
    await testDb?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("covers every root field of the schema, each with a permission from the matrix", async () => {
    const schema: GraphQLSchema = await buildGraphqlSchema();
    const rootFields = (["Query", "Mutation", "Subscription"] as const).flatMap((root) => {
      const type = schema.getType(root);
      return type && isObjectType(getNamedType(type)) && isObjectType(type) ? Object.keys(type.getFields()).map((f) => `${root}.${f}`) : [];
    });
    expect(cases.map((c) => c.field).sort()).toEqual(rootFields.sort());
    for (const c of cases) expect(Object.keys(permissionMatrix)).toContain(c.permission);
  });

  it.each(accessRoles)("%s: allowed operations work inside its sites, see nothing outside, and the rest are FORBIDDEN", async (role) => {
    const caller = callers.get(role)!;
    const observed: Record<string, Outcome> = {};
    const expected: Record<string, Outcome> = {};
    for (const c of cases) {
      for (const target of ["inside", "outside"] as const) {
        const name = `${c.field} @ ${target}`;
        expected[name] = !can({ kind: "api_key", id: "x", name: "x", role, scope: { all: false, sites: [] } }, c.permission)
          ? "forbidden"
          : target === "inside" || c.unscoped
            ? "done"
            : "invisible";
        observed[name] = await c.run(caller, target);
      }
    }
    expect(observed).toEqual(expected);
  });

  it("audits every mutation in the caller's name", async () => {
    const admin = callers.get("admin")!;
    const unaudited: string[] = [];
    for (const c of cases.filter((c) => c.field.startsWith("Mutation."))) {
      const { rows: [before] } = await testDb.database.query<{ last: number }>(`select coalesce(max(id), 0)::int as last from audit_entry`);
      expect(await c.run(admin, "inside"), c.field).toBe("done");
      const { rows } = await testDb.database.query<{ n: number }>(`select count(*)::int as n from audit_entry where id > $1 and actor = $2`, [before!.last, admin.actor]);
      if (rows[0]!.n === 0) unaudited.push(c.field);
    }
    expect(unaudited).toEqual([]);
  });

  it("records every denied operation as a security event", async () => {
    const { rows } = await testDb.database.query<{ n: number }>(
      `select count(*)::int as n from security_event where action = 'auth.denied' and outcome = 'denied'`,
    );
    const deniedCases = accessRoles.flatMap((role) =>
      cases.filter((c) => !can({ kind: "api_key", id: "x", name: "x", role, scope: { all: true } }, c.permission)).map(() => 2),
    );
    expect(rows[0]!.n).toBeGreaterThanOrEqual(deniedCases.reduce((a, b) => a + b, 0));
  });
});
