import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { simulatorMachineNodeId, simulatorNodeId, type OpcuaSimulator } from "../../src/demo/opcua-simulator.js";
import { createLogger } from "../../src/log/logger.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { trustCertificate } from "../../src/opcua/opcua.trust.js";
import { startFloorHub, type FloorHub } from "../support/floor-hub.js";
import { eventually, wsClient } from "../support/graphql.js";
import { closedPort, startTestSimulator, temporaryPkiRoot } from "../support/opcua.js";
import { oneMachinePath } from "../support/plant.js";

/**
 * Guarded actuation over OPC UA, through GraphQL into a hub on a real PostgreSQL, against the
 * in-process node-opcua machine simulator: its drive holds SpeedSetpoint at most at 30 and refuses
 * negative values with BadOutOfRange; ResetCounter answers with the count it reset.
 */

const suffix = randomBytes(3).toString("hex");
const enterprise = `opcact-${suffix}`;
const machinePath = oneMachinePath(enterprise, "press-1");
const CEILING = 30;
const log = createLogger("silent");

type Call = Awaited<ReturnType<FloorHub["as"]>>;
const WRITE = `mutation($input: WriteSetpointInput!) { writeSetpoint(input: $input) { actuation { id status detail } errors { field message } } }`;
const CALL = `mutation($input: CallMachineMethodInput!) { callMachineMethod(input: $input) { actuation { id status detail } errors { field message } } }`;
const READ = `query($id: ID!) { actuation(id: $id) { status beforeValue afterValue detail } }`;

describe("guarded actuation over OPC UA", () => {
  let pki: Awaited<ReturnType<typeof temporaryPkiRoot>>;
  let simulator: OpcuaSimulator;
  let floor: FloorHub;
  let machineId: string;
  let operator: Call;
  const setpoint = () => simulator.machine(machinePath)!.speedSetpoint;
  const write = (input: Record<string, unknown>) => operator(WRITE, { input: { machineId, reason: "test", ...input } });
  const call = (input: Record<string, unknown>) => operator(CALL, { input: { machineId, reason: "shift start", ...input } });
  const finished = (id: string) =>
    eventually(async () => {
      const { data } = await operator(READ, { id });
      return ["CONFIRMED", "MISMATCH", "FAILED"].includes(data?.actuation.status) ? data!.actuation : undefined;
    }, `actuation ${id} to finish`);
  const audit = (id: string) =>
    floor.query<{ action: string; old_value: unknown; new_value: unknown; reason: string | null }>(
      `select action, old_value, new_value, reason from audit_entry where entity_type = 'actuation_request' and entity_id = $1 order by id`,
      [id],
    );

  beforeAll(async () => {
    pki = await temporaryPkiRoot();
    simulator = await startTestSimulator(pki.dir, "press", { machines: [{ path: machinePath, profile: "press" }], speedSetpointCeiling: CEILING, intervalMs: 200, log });
    const hubPki = path.join(pki.dir, "hub");
    await trustCertificate(hubPki, simulator.certificate());
    const plant = stringify({
      enterprise,
      opcuaEndpoints: [
        { name: `press-${suffix}`, url: simulator.endpointUrl, securityMode: "None", publishingIntervalMs: 100 },
        { name: `gone-${suffix}`, url: `opc.tcp://127.0.0.1:${await closedPort()}`, securityMode: "None" },
      ],
      sites: [{ name: "site-1", areas: [{ name: "area-1", lines: [{ name: "line-1", machines: [{
        name: "press-1",
        dataPoints: [
          { name: "speed-setpoint", opcua: { endpoint: `press-${suffix}`, nodeId: simulatorNodeId(machinePath, "SpeedSetpoint"), samplingIntervalMs: 100 }, actuation: { transport: "opcua", min: -10, max: 100, tolerance: 0.01 } },
          // The same node by browse path: the Objects folder's Machines, the press, its SpeedSetpoint component.
          { name: "speed-by-path", opcua: { endpoint: `press-${suffix}`, browsePath: "/2:Machines/2:press-1.2:SpeedSetpoint", samplingIntervalMs: 100 }, actuation: { transport: "opcua", max: 100 } },
          { name: "remote-setpoint", opcua: { endpoint: `gone-${suffix}`, nodeId: "ns=1;s=Setpoint" }, actuation: { transport: "opcua", max: 100 } },
        ],
        methods: [
          { name: "reset-counter", transport: "opcua", endpoint: `press-${suffix}`, objectId: simulatorMachineNodeId(machinePath), methodId: simulatorNodeId(machinePath, "ResetCounter") },
          // ResetCounter called on an object that does not have it: the server answers with a Bad status.
          { name: "reset-speed", transport: "opcua", endpoint: `press-${suffix}`, objectId: simulatorNodeId(machinePath, "Speed"), methodId: simulatorNodeId(machinePath, "ResetCounter") },
        ],
      }] }] }] }],
    });
    floor = await startFloorHub("opcua_actuation", plant, { OPCUA_PKI_DIR: hubPki, ACTUATION_READBACK_SECONDS: "1" });
    const [machine] = await floor.query<{ id: number }>(`select id from machine where path = $1`, [machinePath]);
    machineId = globalId("Machine", machine!.id);
    operator = await floor.as("operator");
    // The guard measures from the latest sample: wait until the hub reads the setpoint over its subscription.
    await eventually(async () => ((await floor.query(`select 1 from telemetry t join data_point p on p.id = t.data_point_id where p.name = 'speed-setpoint'`)).length > 0 ? true : undefined), "the setpoint's first sample");
  }, 30_000);

  afterAll(async () => {
    await floor?.stop();
    await simulator?.stop();
    await pki?.remove();
  });

  it("shows OPC UA as the transport of the writable point and of the methods", async () => {
    const { data } = await operator(`query($id: ID!) { machine(id: $id) { methods { name transport } metrics { name actuation { transport } } } }`, { id: machineId });
    expect(data?.machine.methods).toEqual([
      { name: "reset-counter", transport: "OPCUA" },
      { name: "reset-speed", transport: "OPCUA" },
    ]);
    expect(data?.machine.metrics.map((m: { actuation: unknown }) => m.actuation)).toEqual([{ transport: "OPCUA" }, { transport: "OPCUA" }, { transport: "OPCUA" }]);
  });

  it("refuses to remove the OPC UA binding that a point's setpoint writes go through", async () => {
    const admin = await floor.as("admin");
    const [point] = await floor.query<{ id: number }>(`select id from data_point where name = 'speed-setpoint'`);
    const { data } = await admin(`mutation($id: ID!) { removeOpcuaBinding(dataPointId: $id) { dataPoint { id } errors { field message } } }`, { id: globalId("DataPoint", point!.id) });
    expect(data?.removeOpcuaBinding.errors).toEqual([{ field: ["dataPointId"], message: expect.stringContaining("actuation transport") }]);
    expect(await floor.query(`select 1 from opcua_binding where data_point_id = $1`, [point!.id])).toHaveLength(1);
  });

  it("writes a setpoint within its limits to the node and confirms it by reading the node back, audited with before and after", async () => {
    const before = setpoint();
    const { data } = await write({ point: "speed-setpoint", value: 21.5, reason: "slow down for the new mould" });
    expect(data?.writeSetpoint.errors).toEqual([]);
    const { id } = data!.writeSetpoint.actuation;
    expect(await finished(id)).toEqual({ status: "CONFIRMED", beforeValue: before, afterValue: 21.5, detail: null });
    expect(setpoint()).toBe(21.5);
    expect((await audit(id)).map((a) => [a.action, a.old_value, a.new_value])).toEqual([
      ["actuation.requested", { point: "speed-setpoint", value: before }, { point: "speed-setpoint", value: 21.5, dryRun: false }],
      ["actuation.approved", { point: "speed-setpoint", value: before }, { point: "speed-setpoint", value: 21.5, dryRun: false }],
      ["actuation.sent", { value: before }, { value: 21.5 }],
      ["actuation.confirmed", { value: before }, { value: 21.5, requested: 21.5 }],
    ]);
  });

  it("never sends what the guard refuses", async () => {
    const held = setpoint();
    const { id, status, detail } = (await write({ point: "speed-setpoint", value: 150 })).data!.writeSetpoint.actuation;
    expect({ status, detail }).toEqual({ status: "REFUSED", detail: "150 is above the maximum 100" });
    await new Promise((r) => setTimeout(r, 300));
    expect(setpoint()).toBe(held);
    expect((await audit(id)).map((a) => a.action)).toEqual(["actuation.requested", "actuation.refused"]);
  });

  it("reports the server's refusal as FAILED with its status", async () => {
    const held = setpoint();
    const { id } = (await write({ point: "speed-setpoint", value: -5 })).data!.writeSetpoint.actuation;
    const result = await finished(id);
    expect(result).toMatchObject({ status: "FAILED", beforeValue: held, afterValue: null });
    expect(result.detail).toMatch(/^the server answered writing nsu=.*\/SpeedSetpoint: BadOutOfRange/);
    expect(setpoint()).toBe(held);
    expect((await audit(id)).at(-1)).toMatchObject({ action: "actuation.failed", old_value: { value: held }, new_value: { value: null, requested: -5 }, reason: result.detail });
  });

  it("reports a read-back that does not match: the drive holds the node at its ceiling (the point bound by browse path)", async () => {
    const { id } = (await write({ point: "speed-by-path", value: 50 })).data!.writeSetpoint.actuation;
    expect(await finished(id)).toMatchObject({ status: "MISMATCH", afterValue: CEILING, detail: `wrote 50, the machine reports ${CEILING}` });
    expect((await audit(id)).at(-1)).toMatchObject({ action: "actuation.mismatch", new_value: { value: CEILING, requested: 50 } });
  });

  it("calls ResetCounter: CONFIRMED with its output arguments as the result, in the audit rows too", async () => {
    const partsBefore = simulator.machine(machinePath)!.parts;
    expect(partsBefore).toBeGreaterThan(0);
    const { id, status } = (await call({ method: "reset-counter" })).data!.callMachineMethod.actuation;
    expect(status).toBe("APPROVED");
    const result = await finished(id);
    expect(result.status).toBe("CONFIRMED");
    const { PartsBefore } = JSON.parse(result.detail) as { PartsBefore: number };
    expect(PartsBefore).toBeGreaterThanOrEqual(partsBefore);
    expect(simulator.machine(machinePath)!.parts).toBeLessThan(PartsBefore);
    expect((await audit(id)).map((a) => [a.action, a.old_value, a.new_value])).toEqual([
      ["actuation.requested", { method: "reset-counter", value: null }, { method: "reset-counter", value: null, arguments: {}, dryRun: false }],
      ["actuation.approved", { method: "reset-counter", value: null }, { method: "reset-counter", value: null, arguments: {}, dryRun: false }],
      ["actuation.sent", { value: null }, { value: null }],
      ["actuation.confirmed", { value: null }, { value: null, requested: null, result: { PartsBefore } }],
    ]);
  });

  it("fails a call the server answers with a Bad status, and one with arguments the method does not take", async () => {
    const wrongObject = (await call({ method: "reset-speed" })).data!.callMachineMethod.actuation;
    expect((await finished(wrongObject.id)).detail).toMatch(/^the server answered calling nsu=.*\/ResetCounter: Bad\w+ /);
    const withArgs = (await call({ method: "reset-counter", arguments: { counter: "parts" } })).data!.callMachineMethod.actuation;
    expect(await finished(withArgs.id)).toMatchObject({ status: "FAILED", detail: expect.stringMatching(/^not sent: .*ResetCounter has no argument "counter"; it takes none/) });
  });

  it("fails a write to an unreachable endpoint at once, saying which", async () => {
    const startedAt = Date.now();
    const { id } = (await write({ point: "remote-setpoint", value: 3 })).data!.writeSetpoint.actuation;
    expect(await finished(id)).toMatchObject({ status: "FAILED", detail: expect.stringMatching(/^not sent: cannot connect to opc\.tcp:\/\/127\.0\.0\.1:\d+/) });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it("tells subscribers with actuation.read each change of status, live", async () => {
    const subscribe = async (role: "operator" | "viewer") => {
      const { key } = await createApiKey(floor.testDb.database.db, { name: `${role}-${randomBytes(3).toString("hex")}`, role, sites: null, createdBy: "test" });
      return wsClient(floor.hub.graphqlUrl!, { authorization: `Bearer ${key}` });
    };
    const viewer = await subscribe("viewer");
    const refused = await new Promise<unknown>((resolve) => {
      viewer.subscribe({ query: `subscription { actuationChanged { id } }` }, { next: resolve, error: resolve, complete: () => resolve(undefined) });
    });
    expect(JSON.stringify(refused)).toMatch(/may not actuation.read/);
    await viewer.dispose();

    const client = await subscribe("operator");
    const seen: { id: string; status: string }[] = [];
    try {
      const confirmed = new Promise<void>((resolve, reject) => {
        client.subscribe<{ actuationChanged: { id: string; status: string } }>(
          { query: `subscription($m: ID) { actuationChanged(machineId: $m) { id status } }`, variables: { m: machineId } },
          {
            next: ({ data, errors }) => {
              if (errors) return reject(new Error(JSON.stringify(errors)));
              seen.push(data!.actuationChanged);
              // Three notices: approved, sent (claimed by the actuator), confirmed.
              if (seen.length === 3) resolve();
            },
            error: reject,
            complete: () => reject(new Error("ended before the third notice")),
          },
        );
      });
      await new Promise((r) => setTimeout(r, 300));
      const { id } = (await write({ point: "speed-setpoint", value: 22 })).data!.writeSetpoint.actuation;
      await confirmed;
      expect(seen.every((change) => change.id === id)).toBe(true);
      expect(seen.at(-1)?.status).toBe("CONFIRMED");
      // Each notice is read afresh, so a late one may already show a later status; the order never goes back.
      const order = ["APPROVED", "SENT", "CONFIRMED"];
      const ranks = seen.map((change) => order.indexOf(change.status));
      expect(ranks).toEqual([...ranks].sort());
      expect(ranks[0]).toBeGreaterThanOrEqual(0);
    } finally {
      await client.dispose();
    }
  });
});
