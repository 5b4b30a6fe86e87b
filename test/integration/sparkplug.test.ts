import { randomBytes } from "node:crypto";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { SparkplugEdgeNode } from "../../src/demo/sparkplug-edge-node.js";
import { createLogger } from "../../src/log/logger.js";
import { REBIRTH_METRIC } from "../../src/ingest/sparkplug/sparkplug.codec.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startFloorHub, type FloorHub } from "../support/floor-hub.js";
import { eventually } from "../support/graphql.js";
import { oneMachinePath, oneMachinePlant } from "../support/plant.js";
import { TEST_MQTT_URL } from "../support/services.js";

/**
 * Sparkplug B through the real Mosquitto into a hub: an edge node (node metric Uptime, device
 * "plc" with Temperature and Running) births, sends data by alias, skips sequence numbers, dies.
 */

const suffix = randomBytes(3).toString("hex");
const enterprise = `spb-${suffix}`;
const group = `grp-${suffix}`;
const hostId = `host-${suffix}`;
const plant = oneMachinePlant(enterprise, "press-1", [
  { name: "temperature", sparkplug: { group, node: "edge-1", device: "plc", metric: "Sensors/Temperature" } },
  { name: "running", dataType: "boolean", sparkplug: { group, node: "edge-1", device: "plc", metric: "Running" } },
  { name: "uptime", dataType: "integer", sparkplug: { group, node: "edge-1", metric: "Uptime" } },
  { name: "pressure", sparkplug: { group, node: "edge-2", metric: "Pressure" } },
]);
const edge = (node: string, extra: Partial<ConstructorParameters<typeof SparkplugEdgeNode>[0]> = {}) =>
  new SparkplugEdgeNode({
    mqttUrl: TEST_MQTT_URL,
    group,
    node,
    metrics: [{ name: "Uptime", alias: 1, type: "Int32", value: 0 }, { name: "Pressure", alias: 2, type: "Double", value: 1 }],
    devices: node === "edge-1" ? { plc: [{ name: "Sensors/Temperature", alias: 10, type: "Double", value: 20 }, { name: "Running", alias: 11, type: "Boolean", value: false }] } : {},
    ...extra,
  });

describe("Sparkplug B ingest", () => {
  let floor: FloorHub;
  let machineId: number;
  const points: Record<string, number> = {};
  const rows = (point: string) =>
    floor.query<{ value: number; quality: number }>(`select value, quality from telemetry where data_point_id = $1 order by ts`, [points[point]]);
  const state = async () => {
    const call = await floor.as("viewer");
    return (await call(`query($id: ID!) { machine(id: $id) { state } }`, { id: globalId("Machine", machineId) })).data?.machine.state as string;
  };

  beforeAll(async () => {
    floor = await startFloorHub("sparkplug", plant, { SPARKPLUG_HOST_ID: hostId });
    const [machine] = await floor.query<{ id: number }>(`select id from machine where path = $1`, [oneMachinePath(enterprise, "press-1")]);
    machineId = machine!.id;
    for (const p of await floor.query<{ id: number; name: string }>(`select id, name from data_point where machine_id = $1`, [machineId])) points[p.name] = p.id;
  });

  afterAll(async () => {
    await floor?.stop();
  });

  it("publishes the host's STATE, retained, as Sparkplug 3.0 JSON", async () => {
    const client = await mqtt.connectAsync(TEST_MQTT_URL);
    try {
      const message = new Promise<Buffer>((resolve) => client.on("message", (_t, payload) => resolve(payload)));
      await client.subscribeAsync(`spBv1.0/STATE/${hostId}`);
      expect(JSON.parse((await message).toString())).toEqual({ online: true, timestamp: expect.any(Number) });
    } finally {
      await client.endAsync();
    }
  });

  it("stores data sent by alias after the births, with its quality; the births' values too", async () => {
    const node = edge("edge-1");
    try {
      await node.start();
      await node.data("plc", { "Sensors/Temperature": 71.5, Running: true }, { quality: 192 });
      await node.data("plc", { "Sensors/Temperature": 72 }, { quality: 500 });
      await node.data(undefined, { Uptime: 42 });
      await eventually(async () => ((await rows("temperature")).length === 3 ? true : undefined), "three temperature rows");
      expect(await rows("temperature")).toEqual([{ value: 20, quality: 0 }, { value: 71.5, quality: 0 }, { value: 72, quality: 1 }]);
      expect((await rows("running")).map((r) => r.value)).toEqual([0, 1]);
      await eventually(async () => ((await rows("uptime")).length === 2 ? true : undefined), "uptime rows");
      expect((await rows("uptime")).map((r) => r.value)).toEqual([0, 42]);
      expect(node.commands).toEqual([]); // all in order: no rebirth asked
    } finally {
      await node.stop();
    }
  });

  it("asks for a rebirth (NCMD Node Control/Rebirth) on a sequence gap, and the node's rebirth is followed", async () => {
    const node = edge("edge-1");
    try {
      await node.start();
      await node.data("plc", { "Sensors/Temperature": 80 }, { seq: 9 }); // expected 2
      const command = await eventually(async () => node.commands[0], "a rebirth request");
      expect(command.topic).toBe(`spBv1.0/${group}/NCMD/edge-1`);
      expect(command.metrics).toEqual([{ name: REBIRTH_METRIC, value: true }]);
      await eventually(async () => (node.births === 2 ? true : undefined), "the node's rebirth");
      await node.data("plc", { "Sensors/Temperature": 81 }); // after the rebirth the sequence is back in order
      await eventually(async () => ((await rows("temperature")).some((r) => r.value === 81) ? true : undefined), "the value after the rebirth");
      expect(node.commands).toHaveLength(1);
    } finally {
      await node.stop();
    }
  });

  it("does not guess: data by alias before any birth is quarantined and a rebirth requested", async () => {
    const client = await mqtt.connectAsync(TEST_MQTT_URL);
    const node = edge("edge-2");
    try {
      // A node that was born before the hub listened: its data arrives, its birth never did.
      const { encodeSparkplug } = await import("../../src/ingest/sparkplug/sparkplug.codec.js");
      const rebirth = new Promise<string>((resolve) => client.on("message", (topic) => resolve(topic)));
      await client.subscribeAsync(`spBv1.0/${group}/NCMD/edge-2`);
      await client.publishAsync(`spBv1.0/${group}/NDATA/edge-2`, encodeSparkplug({ timestamp: Date.now(), seq: 17, metrics: [{ alias: 2, type: "Double", value: 3.5 }] }));
      expect(await rebirth).toBe(`spBv1.0/${group}/NCMD/edge-2`);
      const quarantined = await eventually(
        async () => (await floor.query<{ reason: string; detail: string }>(`select reason, detail from quarantine where topic = $1`, [`spBv1.0/${group}/NDATA/edge-2`]))[0],
        "the quarantined message",
      );
      expect(quarantined).toEqual({ reason: "unknown_metric", detail: `edge node ${group}/edge-2 has not been born` });
      expect(await rows("pressure")).toEqual([]);
    } finally {
      await node.stop();
      await client.endAsync();
    }
  });

  it("marks the machine OFFLINE on DDEATH and on NDEATH of its session, online again on rebirth", async () => {
    const node = edge("edge-1");
    const connectivity = () => floor.query<{ online: boolean; reason: string }>(`select online, reason from machine_connectivity where machine_id = $1`, [machineId]);
    try {
      await node.start();
      await node.data("plc", { "Sensors/Temperature": 60 });
      await eventually(async () => ((await state()) === "RUNNING" ? true : undefined), "RUNNING after the births");

      await node.deviceDeath("plc");
      await eventually(async () => ((await state()) === "OFFLINE" ? true : undefined), "OFFLINE after DDEATH");
      expect(await connectivity()).toEqual([{ online: false, reason: `sparkplug DDEATH ${group}/edge-1/plc` }]);

      await node.birth();
      await eventually(async () => ((await state()) === "RUNNING" ? true : undefined), "RUNNING after the rebirth");

      await node.death(99); // the will of some older session: ignored
      await node.data("plc", { "Sensors/Temperature": 61 });
      await eventually(async () => ((await rows("temperature")).some((r) => r.value === 61) ? true : undefined), "data after the stale death");
      expect(await state()).toBe("RUNNING");

      await node.death();
      await eventually(async () => ((await state()) === "OFFLINE" ? true : undefined), "OFFLINE after NDEATH");
      expect(await connectivity()).toEqual([{ online: false, reason: `sparkplug NDEATH ${group}/edge-1` }]);
    } finally {
      await node.stop();
    }
  });

  it("forgets a death once the machine is no longer bound to Sparkplug (read over plain MQTT now)", async () => {
    expect(await state()).toBe("OFFLINE"); // dead since the previous test
    await applyPlantText(floor.testDb.database, oneMachinePlant(enterprise, "press-1", [{ name: "temperature" }, { name: "running", dataType: "boolean" }, { name: "uptime", dataType: "integer" }, { name: "pressure" }]), "plant.yaml", createLogger("silent"));
    await floor.hub.ingest!.reloadBindings();
    expect(await state()).toBe("RUNNING");
    // The state tracker hears it too: the machine is announced online, its death no longer counts.
    expect(await floor.query(`select online, reason from machine_connectivity`)).toEqual([{ online: true, reason: "sparkplug binding removed" }]);
  });
});
