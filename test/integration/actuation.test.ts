import { randomBytes } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { SparkplugEdgeNode } from "../../src/demo/sparkplug-edge-node.js";
import { AfterCommit } from "../../src/events/after-commit.js";
import { machineContexts } from "../../src/events/event-context.js";
import { EventWriter } from "../../src/events/event.store.js";
import { createLogger } from "../../src/log/logger.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startFloorHub, type FloorHub } from "../support/floor-hub.js";
import { eventually } from "../support/graphql.js";
import { oneMachinePath } from "../support/plant.js";
import { TEST_MQTT_URL } from "../support/services.js";
import { stringify } from "yaml";

/**
 * Setpoint writes over GraphQL into a hub on the real Mosquitto: a plain MQTT device that applies
 * commands and reports the value back (one of its points is stuck and reports something else), and
 * a Sparkplug edge node whose critical pressure setpoint needs a second person's approval.
 */

const suffix = randomBytes(3).toString("hex");
const enterprise = `act-${suffix}`;
const group = `act-${suffix}`;
const path = oneMachinePath(enterprise, "press-1");
const plant = stringify({
  enterprise,
  sites: [{ name: "site-1", areas: [{ name: "area-1", lines: [{ name: "line-1", machines: [{
    name: "press-1",
    dataPoints: [
      { name: "speed", actuation: { transport: "mqtt", topic: `${path}/cmd/speed`, min: 0, max: 200, maxStep: 50, minIntervalSeconds: 3, tolerance: 0.01 } },
      { name: "stuck", actuation: { transport: "mqtt", topic: `${path}/cmd/stuck`, max: 100 } },
      { name: "pressure", sparkplug: { group, node: "edge-1", device: "plc", metric: "Setpoints/Pressure" }, actuation: { transport: "sparkplug", min: 0, max: 10, critical: true, allowAutomation: true } },
      { name: "temperature", unit: "°C" },
    ],
    methods: [
      { name: "reset-counter", transport: "mqtt", topic: `${path}/cmd/reset-counter`, minIntervalSeconds: 60 },
      { name: "start", transport: "sparkplug", sparkplug: { group, node: "edge-1", device: "plc", metric: "Commands/Start" }, critical: true },
    ],
    rules: [{ name: "hot", point: "temperature", kind: "threshold", condition: "above", limit: 80 }],
  }] }] }] }],
  automations: [
    {
      name: "relieve",
      trigger: "alarm.raised",
      actions: [
        { type: "actuate", key: "pressure", point: "pressure", value: 4 },
        { type: "actuate", key: "speed", point: "speed", value: 50 },
      ],
    },
    { name: "stale-reset", trigger: "data.stale", cooldownSeconds: 600, actions: [{ type: "actuate", key: "stuck", point: "stuck", value: 1 }] },
  ],
});

type Call = Awaited<ReturnType<FloorHub["as"]>>;
const WRITE = `mutation($input: WriteSetpointInput!) { writeSetpoint(input: $input) { actuation { id status detail beforeValue requestedBy } errors { field message } } }`;
const READ = `query($id: ID!) { actuation(id: $id) { status beforeValue afterValue detail decidedBy sentAt } }`;

describe("guarded actuation", () => {
  let floor: FloorHub;
  let device: MqttClient;
  let edge: SparkplugEdgeNode;
  let machineId: string;
  let operator: Call;
  let engineer: Call;
  const commands: { topic: string; value: unknown }[] = [];
  const methodCalls: { topic: string; body: Record<string, unknown> }[] = [];
  const write = (call: Call, input: Record<string, unknown>) => call(WRITE, { input: { machineId, reason: "test", ...input } });
  const finished = (call: Call, id: string) =>
    eventually(async () => {
      const { data } = await call(READ, { id });
      return ["CONFIRMED", "MISMATCH", "FAILED"].includes(data?.actuation.status) ? data!.actuation : undefined;
    }, `write ${id} to finish`);
  const audit = (id: string) =>
    floor.query<{ actor: string; action: string; old_value: unknown; new_value: unknown; reason: string | null }>(
      `select actor, action, old_value, new_value, reason from audit_entry where entity_type = 'actuation_request' and entity_id = $1 order by id`,
      [id],
    );

  beforeAll(async () => {
    floor = await startFloorHub("actuation", plant, { ACTUATION_READBACK_SECONDS: "2" });
    const [machine] = await floor.query<{ id: number }>(`select id from machine where path = $1`, [path]);
    machineId = globalId("Machine", machine!.id);
    // The MQTT device: applies a command and reports the value on the point's topic; "stuck" stays 5 lower.
    device = await mqtt.connectAsync(TEST_MQTT_URL);
    device.on("message", (topic, payload) => {
      const body = JSON.parse(payload.toString()) as { value: number; method?: string };
      if (body.method !== undefined) return void methodCalls.push({ topic, body });
      const { value } = body;
      commands.push({ topic, value });
      const point = topic.split("/").at(-1)!;
      void device.publishAsync(`${path}/${point}`, JSON.stringify({ value: point === "stuck" ? value - 5 : value }), { qos: 1 });
    });
    await device.subscribeAsync(`${path}/cmd/#`, { qos: 1 });
    await device.publishAsync(`${path}/speed`, JSON.stringify({ value: 100 }), { qos: 1 });
    edge = new SparkplugEdgeNode({ mqttUrl: TEST_MQTT_URL, group, node: "edge-1", metrics: [], devices: { plc: [{ name: "Setpoints/Pressure", alias: 1, type: "Float", value: 2 }] } });
    await edge.start();
    await eventually(async () => ((await floor.query(`select 1 from telemetry`)).length === 2 ? true : undefined), "the starting values");
    operator = await floor.as("operator");
    engineer = await floor.as("engineer");
  });

  afterAll(async () => {
    await edge?.stop();
    await device?.endAsync();
    await floor?.stop();
  });

  it("re-applying the plant changes nothing: limits and methods compare equal as stored", async () => {
    const summary = await applyPlantText(floor.testDb.database, plant, "plant.yaml", createLogger("silent"));
    expect(summary).toMatchObject({ created: 0, updated: 0, deleted: 0 });
  });

  it("shows which points are writable, within which limits, and the machine's methods", async () => {
    const { data } = await operator(`query($id: ID!) { machine(id: $id) { methods { name transport critical minIntervalSeconds } metrics { name actuation { transport commandTopic max maxStep minIntervalSeconds critical } } } }`, { id: machineId });
    expect(data?.machine.methods).toEqual([
      { name: "reset-counter", transport: "MQTT", critical: false, minIntervalSeconds: 60 },
      { name: "start", transport: "SPARKPLUG", critical: true, minIntervalSeconds: null },
    ]);
    const byName = Object.fromEntries(data!.machine.metrics.map((m: { name: string; actuation: unknown }) => [m.name, m.actuation]));
    expect(byName).toEqual({
      speed: { transport: "MQTT", commandTopic: `${path}/cmd/speed`, max: 200, maxStep: 50, minIntervalSeconds: 3, critical: false },
      stuck: { transport: "MQTT", commandTopic: `${path}/cmd/stuck`, max: 100, maxStep: null, minIntervalSeconds: null, critical: false },
      pressure: { transport: "SPARKPLUG", commandTopic: null, max: 10, maxStep: null, minIntervalSeconds: null, critical: true },
      temperature: null,
    });
  });

  it("refuses roles without the right, writes within the limits, confirms by read-back and audits each step with before and after", async () => {
    const viewer = await floor.as("viewer");
    expect((await write(viewer, { point: "speed", value: 120 })).errors?.[0]?.message).toMatch(/may not machine.actuate/);

    const { data } = await write(operator, { point: "speed", value: 120, reason: "speed up for the rush order" });
    expect(data?.writeSetpoint.errors).toEqual([]);
    const { id, status, beforeValue, requestedBy } = data!.writeSetpoint.actuation;
    expect({ status, beforeValue }).toEqual({ status: "APPROVED", beforeValue: 100 });
    expect(await finished(operator, id)).toMatchObject({ status: "CONFIRMED", beforeValue: 100, afterValue: 120, detail: null });
    expect(commands).toEqual([{ topic: `${path}/cmd/speed`, value: 120 }]);
    expect(await audit(id)).toEqual([
      { actor: requestedBy, action: "actuation.requested", old_value: { point: "speed", value: 100 }, new_value: { point: "speed", value: 120, dryRun: false }, reason: "speed up for the rush order" },
      { actor: requestedBy, action: "actuation.approved", old_value: { point: "speed", value: 100 }, new_value: { point: "speed", value: 120, dryRun: false }, reason: null },
      { actor: "system:actuator", action: "actuation.sent", old_value: { value: 100 }, new_value: { value: 120 }, reason: null },
      { actor: "system:actuator", action: "actuation.confirmed", old_value: { value: 100 }, new_value: { value: 120, requested: 120 }, reason: null },
    ]);
  });

  it("refuses what breaks a limit, with every reason, audited and never sent; a dry run checks without sending", async () => {
    const sentBefore = commands.length;
    const tooSoon = (await write(operator, { point: "speed", value: 130 })).data!.writeSetpoint.actuation;
    expect(tooSoon).toMatchObject({ status: "REFUSED", detail: expect.stringMatching(/^the last one was sent \d+(\.\d+)? s ago; wait/) });
    const outOfRange = (await write(operator, { point: "speed", value: 260 })).data!.writeSetpoint.actuation;
    expect(outOfRange.detail).toMatch(/^260 is above the maximum 200; a step of 140 from 120 exceeds the maximum step 50; the last one/);
    expect((await audit(outOfRange.id)).map((a) => [a.action, a.reason])).toEqual([
      ["actuation.requested", "test"],
      ["actuation.refused", outOfRange.detail],
    ]);
    const dry = (await write(operator, { point: "stuck", value: 50, dryRun: true })).data!.writeSetpoint.actuation;
    expect(dry.status).toBe("DRY_RUN");
    // While its source says it is dead, nothing is sent to the machine.
    await floor.query(`update machine_connectivity set online = false, reason = 'sparkplug NDEATH test'`);
    expect((await write(operator, { point: "stuck", value: 50, dryRun: true })).data!.writeSetpoint.actuation.detail).toBe("the machine is offline (sparkplug NDEATH test)");
    await floor.query(`update machine_connectivity set online = true`);
    const notWritable = (await write(operator, { point: "temperature", value: 1 })).data!.writeSetpoint.actuation;
    expect(notWritable).toMatchObject({ status: "REFUSED", detail: '"temperature" is not writable: it declares no actuation limits' });
    expect((await write(operator, { point: "nope", value: 1 })).data!.writeSetpoint.errors).toEqual([{ field: ["input", "point"], message: 'the machine has no data point "nope"' }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(commands.length).toBe(sentBefore);
  });

  it("reports a read-back that does not match", async () => {
    const { id } = (await write(operator, { point: "stuck", value: 40 })).data!.writeSetpoint.actuation;
    expect(await finished(operator, id)).toMatchObject({ status: "MISMATCH", afterValue: 35, detail: "wrote 40, the machine reports 35" });
    expect((await audit(id)).at(-1)).toMatchObject({ action: "actuation.mismatch", old_value: { value: null }, new_value: { value: 35, requested: 40 } });
  });

  it("holds a critical write for a second person: not its requester; approved, it goes out as Sparkplug DCMD and is confirmed", async () => {
    const { id, status } = (await write(engineer, { point: "pressure", value: 6 })).data!.writeSetpoint.actuation;
    expect(status).toBe("PENDING_APPROVAL");
    const APPROVE = `mutation($id: ID!) { approveActuation(id: $id) { actuation { status decidedBy } errors { field message } } }`;
    expect((await engineer(APPROVE, { id })).data?.approveActuation.errors).toEqual([
      { field: ["id"], message: "a critical action needs the approval of a second person, not of its requester" },
    ]);
    expect((await operator(APPROVE, { id })).errors?.[0]?.message).toMatch(/may not actuation.approve/);
    expect(edge.commands).toEqual([]);

    const approver = await floor.as("engineer");
    expect((await approver(APPROVE, { id })).data?.approveActuation.actuation.status).toBe("APPROVED");
    expect(await finished(approver, id)).toMatchObject({ status: "CONFIRMED", beforeValue: 2, afterValue: 6, decidedBy: expect.stringMatching(/^key:/) });
    expect(edge.commands).toEqual([{ topic: `spBv1.0/${group}/DCMD/edge-1/plc`, device: "plc", metrics: [{ name: "Setpoints/Pressure", value: 6 }] }]);
    expect((await audit(id)).map((a) => a.action)).toEqual([
      "actuation.requested",
      "actuation.pending_approval",
      "actuation.refused", // the requester's own approval
      "actuation.approved",
      "actuation.sent",
      "actuation.confirmed",
    ]);

    const second = (await write(engineer, { point: "pressure", value: 7 })).data!.writeSetpoint.actuation;
    const REJECT = `mutation($id: ID!) { rejectActuation(id: $id, reason: "not during the shift change") { actuation { status detail } errors { message } } }`;
    expect((await approver(REJECT, { id: second.id })).data?.rejectActuation.actuation).toEqual({ status: "REFUSED", detail: "rejected: not during the shift change" });
    expect((await approver(APPROVE, { id: second.id })).data?.approveActuation.errors).toEqual([{ field: ["id"], message: "it is refused, not awaiting approval" }]);
  });

  it("calls machine methods through the same guard: MQTT delivers the call, a critical Sparkplug method waits for approval", async () => {
    const CALL = `mutation($input: CallMachineMethodInput!) { callMachineMethod(input: $input) { actuation { id status method arguments detail } errors { field message } } }`;
    const call = (who: Call, input: Record<string, unknown>) => who(CALL, { input: { machineId, reason: "shift start", ...input } });
    const reset = (await call(operator, { method: "reset-counter", arguments: { counter: "parts" } })).data!.callMachineMethod.actuation;
    expect(reset).toMatchObject({ status: "APPROVED", method: "reset-counter", arguments: { counter: "parts" } });
    await eventually(async () => ((await operator(READ, { id: reset.id })).data?.actuation.status === "SENT" ? true : undefined), "the call sent");
    await eventually(async () => methodCalls[0], "the call at the device");
    expect(methodCalls).toEqual([{ topic: `${path}/cmd/reset-counter`, body: { method: "reset-counter", arguments: { counter: "parts" }, actuationId: Number(reset.id), ts: expect.any(String) } }]);
    // Its minimum interval holds for methods too.
    expect((await call(operator, { method: "reset-counter" })).data!.callMachineMethod.actuation).toMatchObject({ status: "REFUSED", detail: expect.stringMatching(/^the last one was sent/) });
    expect((await call(operator, { method: "start", arguments: { speed: 3 } })).data!.callMachineMethod.errors).toEqual([
      { field: ["input", "arguments"], message: "a Sparkplug method takes no arguments: its command metric is set true" },
    ]);
    expect((await call(operator, { method: "fly" })).data!.callMachineMethod.errors).toEqual([{ field: ["input", "method"], message: 'the machine offers no method "fly"' }]);

    const start = (await call(operator, { method: "start" })).data!.callMachineMethod.actuation;
    expect(start.status).toBe("PENDING_APPROVAL");
    const approved = await engineer(`mutation($id: ID!) { approveActuation(id: $id) { actuation { status } errors { message } } }`, { id: start.id });
    expect(approved.data?.approveActuation.actuation.status).toBe("APPROVED");
    await eventually(async () => edge.commands.find((c) => c.metrics[0]?.name === "Commands/Start"), "the DCMD");
    expect(edge.commands.at(-1)).toEqual({ topic: `spBv1.0/${group}/DCMD/edge-1/plc`, device: "plc", metrics: [{ name: "Commands/Start", value: true }] });
    expect((await audit(start.id)).map((a) => a.action)).toEqual(["actuation.requested", "actuation.pending_approval", "actuation.approved", "actuation.sent"]);
  });

  it("lets automations actuate only through the same guard", async () => {
    await device.publishAsync(`${path}/temperature`, JSON.stringify({ value: 95 }), { qos: 1 });
    const requests = await eventually(async () => {
      const rows = await floor.query<{ point: string; status: string; requested_by: string; detail: string | null }>(
        `select p.name as point, r.status, r.requested_by, r.detail from actuation_request r join data_point p on p.id = r.data_point_id where r.event_id is not null order by p.name`,
      );
      return rows.length === 2 ? rows : undefined;
    }, "the automation's writes");
    const [automation] = await floor.query<{ id: number }>(`select id from automation where name = 'relieve'`);
    expect(requests).toEqual([
      // Critical: an automation may ask, a person approves.
      { point: "pressure", status: "pending_approval", requested_by: `system:automation:${automation!.id}`, detail: null },
      // The point does not allow automations.
      { point: "speed", status: "refused", requested_by: `system:automation:${automation!.id}`, detail: `system:automation:${automation!.id} may not act on this target` },
    ]);
  });

  it("counts an automation's writes in its cooldown", async () => {
    const [machine] = await floor.query<{ id: number }>(`select id from machine where path = $1`, [path]);
    const stale = () =>
      floor.testDb.database.db.transaction(async (tx) =>
        new EventWriter(tx, new AfterCommit(), "test").record(
          { kind: "data.stale", at: new Date(), machineId: machine!.id, severity: "warning", message: "no speed" },
          { machine: (await machineContexts(tx, [machine!.id])).get(machine!.id) },
        ),
      );
    const [{ id: automationId }] = (await floor.query<{ id: number }>(`select id from automation where name = 'stale-reset'`)) as [{ id: number }];
    await stale();
    const second = await stale();
    expect(await floor.query(`select status from actuation_request where requested_by = $1`, [`system:automation:${automationId}`])).toEqual([{ status: "refused" }]);
    expect(await floor.query(`select reason from audit_entry where action = 'action.skipped' and entity_id = $1`, [String(second.id)])).toEqual([{ reason: "cooldown of 600 s" }]);
  });
});
