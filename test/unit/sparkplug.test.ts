import { describe, expect, it } from "vitest";
import type { BindingRow } from "../../src/assets/asset.queries.js";
import { Bus, type BusEvents } from "../../src/bus/bus.js";
import { SparkplugBindings } from "../../src/ingest/sparkplug/sparkplug.bindings.js";
import { decodeSparkplug, encodeSparkplug, REBIRTH_METRIC, type SparkplugPayload } from "../../src/ingest/sparkplug/sparkplug.codec.js";
import { SparkplugHost } from "../../src/ingest/sparkplug/sparkplug.host.js";
import { sparkplugSamples } from "../../src/ingest/sparkplug/sparkplug.normalizer.js";
import { REBIRTH_REPEAT_MS, SparkplugSessions } from "../../src/ingest/sparkplug/sparkplug.session.js";
import { parseSparkplugTopic, type SparkplugTopic } from "../../src/ingest/sparkplug/sparkplug.topic.js";
import { createLogger } from "../../src/log/logger.js";

const node = (type: SparkplugTopic["type"]): SparkplugTopic => ({ group: "g", type, node: "n" });
const device = (type: SparkplugTopic["type"], name = "d"): SparkplugTopic => ({ group: "g", type, node: "n", device: name });
const metric = (m: Partial<SparkplugPayload["metrics"][number]>) => ({ value: 0, isNull: false, ...m });
const birth = (seq: number, bdSeq: number, metrics: SparkplugPayload["metrics"] = []): SparkplugPayload => ({
  seq,
  metrics: [metric({ name: "bdSeq", value: bdSeq }), ...metrics],
});
const T0 = 1_780_000_000_000;

describe("Sparkplug topics", () => {
  it.each([
    ["spBv1.0/g/NBIRTH/n", { group: "g", type: "NBIRTH", node: "n" }],
    ["spBv1.0/g/DDATA/n/d", { group: "g", type: "DDATA", node: "n", device: "d" }],
    ["spBv1.0/STATE/host", undefined],
    ["spBv1.0/g/NDATA/n/d", undefined], // node-level types carry no device
    ["spBv1.0/g/DDATA/n", undefined], // device-level types need one
    ["spBv1.0/g/XDATA/n", undefined],
  ])("%s", (topic, expected) => {
    expect(parseSparkplugTopic(topic)).toEqual(expected);
  });
});

describe("Sparkplug codec", () => {
  it("round-trips a payload, with 64-bit fields as numbers and the Quality property", () => {
    const bytes = encodeSparkplug({
      timestamp: T0,
      seq: 7,
      metrics: [{ name: "t", alias: 4, type: "Double", value: 21.5, properties: { Quality: { type: "Int32", value: 500 } } }],
    });
    expect(decodeSparkplug(bytes)).toEqual({ timestamp: T0, seq: 7, metrics: [{ name: "t", alias: 4, type: "Double", value: 21.5, quality: 500, isNull: false }] });
  });
});

describe("SparkplugSessions", () => {
  it("resolves data by the aliases the births defined, per node and per device", () => {
    const sessions = new SparkplugSessions();
    sessions.handle(node("NBIRTH"), birth(0, 1, [metric({ name: "Uptime", alias: 1 })]), T0);
    sessions.handle(device("DBIRTH"), { seq: 1, metrics: [metric({ name: "Temp", alias: 2 })] }, T0);
    const nodeData = sessions.handle(node("NDATA"), { seq: 2, metrics: [metric({ alias: 1, value: 5 })] }, T0);
    const deviceData = sessions.handle(device("DDATA"), { seq: 3, metrics: [metric({ alias: 2, value: 70 })] }, T0);
    expect(nodeData.metrics.map((m) => [m.device, m.name])).toEqual([[undefined, "Uptime"]]);
    expect(deviceData.metrics.map((m) => [m.device, m.name])).toEqual([["d", "Temp"]]);
    expect(nodeData.rebirth ?? deviceData.rebirth).toBeUndefined();
  });

  it("asks for a rebirth on a sequence gap, and follows the wrap from 255 to 0 without one", () => {
    const sessions = new SparkplugSessions();
    sessions.handle(node("NBIRTH"), birth(254, 1), T0);
    expect(sessions.handle(node("NDATA"), { seq: 255, metrics: [] }, T0).rebirth).toBeUndefined();
    expect(sessions.handle(node("NDATA"), { seq: 0, metrics: [] }, T0).rebirth).toBeUndefined();
    expect(sessions.handle(node("NDATA"), { seq: 5, metrics: [] }, T0).rebirth).toBe("sequence gap on g/n: expected 1, got 5");
    // Asked once; a node slow to answer is not flooded with requests.
    expect(sessions.handle(node("NDATA"), { seq: 9, metrics: [] }, T0 + 1).rebirth).toBeUndefined();
    expect(sessions.handle(node("NDATA"), { seq: 20, metrics: [] }, T0 + REBIRTH_REPEAT_MS).rebirth).toMatch(/sequence gap/);
  });

  it("does not guess: data before any birth, or by an unknown alias, comes back unresolved with a rebirth request", () => {
    const sessions = new SparkplugSessions();
    const early = sessions.handle(node("NDATA"), { seq: 3, metrics: [metric({ alias: 1, value: 5 })] }, T0);
    expect(early.metrics).toEqual([]);
    expect(early.unresolved.map((u) => u.why)).toEqual(["edge node g/n has not been born"]);
    expect(early.rebirth).toBe("NDATA from edge node g/n before its NBIRTH");

    sessions.handle(node("NBIRTH"), birth(0, 1, [metric({ name: "Uptime", alias: 1 })]), T0);
    const unknown = sessions.handle(node("NDATA"), { seq: 1, metrics: [metric({ alias: 9, value: 5 })] }, T0);
    expect(unknown.unresolved.map((u) => u.why)).toEqual(["alias 9 was not defined by a birth of g/n"]);
    expect(unknown.rebirth).toBe("unknown alias 9 from g/n");
    const unbornDevice = sessions.handle(device("DDATA", "x"), { seq: 2, metrics: [metric({ alias: 1 })] }, T0 + REBIRTH_REPEAT_MS);
    expect(unbornDevice.unresolved).toHaveLength(1);
    expect(unbornDevice.rebirth).toBe("DDATA from device g/n/x before its DBIRTH");
  });

  it("takes a device offline on DDEATH, the node and its devices on NDEATH of its own session only", () => {
    const sessions = new SparkplugSessions();
    sessions.handle(node("NBIRTH"), birth(0, 4), T0);
    sessions.handle(device("DBIRTH"), { seq: 1, metrics: [metric({ name: "Temp", alias: 2 })] }, T0);
    expect(sessions.handle(device("DDEATH"), { seq: 2, metrics: [] }, T0).connectivity).toEqual([{ device: "d", online: false, reason: "DDEATH g/n/d" }]);
    expect(sessions.handle(device("DDATA"), { seq: 3, metrics: [metric({ alias: 2 })] }, T0).unresolved).toHaveLength(1);
    expect(sessions.handle(node("NDEATH"), { metrics: [metric({ name: "bdSeq", value: 3 })] }, T0).connectivity).toEqual([]); // an old session's will
    expect(sessions.handle(node("NDEATH"), { metrics: [metric({ name: "bdSeq", value: 4 })] }, T0).connectivity).toEqual([{ device: undefined, online: false, reason: "NDEATH g/n" }]);
    expect(sessions.handle(node("NDATA"), { seq: 5, metrics: [metric({ name: "Uptime" })] }, T0 + REBIRTH_REPEAT_MS).rebirth).toMatch(/before its NBIRTH/);
  });
});

describe("sparkplugSamples", () => {
  const raw = { source: "mqtt", topic: "spBv1.0/g/DDATA/n/d", payload: Buffer.alloc(0), receivedAt: T0 };
  const bind = (dataType: "float" | "integer" | "boolean") => [{ dataPointId: 7, machineId: 3, metric: "m", dataType }];
  const convert = (m: Partial<SparkplugPayload["metrics"][number]>, dataType: "float" | "integer" | "boolean" = "float", payloadTs: number | undefined = T0) =>
    sparkplugSamples(raw, payloadTs, [{ metric: metric(m), bindings: bind(dataType) }]);

  it.each([
    ["Quality 192 is good", { value: 1.5, quality: 192 }, "float", { value: 1.5, quality: "good" }],
    ["Quality 500 (stale) is uncertain", { value: 1.5, quality: 500 }, "float", { value: 1.5, quality: "uncertain" }],
    ["Quality 0 is bad, and still stored", { value: 1.5, quality: 0 }, "float", { value: 1.5, quality: "bad" }],
    ["no Quality property is good", { value: 3 }, "integer", { value: 3, quality: "good" }],
    ["a Boolean metric is 1 or 0", { value: true }, "boolean", { value: 1, quality: "good" }],
  ] as const)("%s", (_title, m, dataType, expected) => {
    expect(convert(m, dataType)).toEqual({ samples: [{ dataPointId: 7, machineId: 3, metric: "m", ts: T0, ...expected }], rejections: [] });
  });

  it("takes the metric's timestamp over the payload's", () => {
    expect(convert({ value: 1, timestamp: T0 - 5_000 }).samples[0]?.ts).toBe(T0 - 5_000);
  });

  it.each([
    ["an unknown quality code", { value: 1, quality: 77 }, "float", "malformed_payload", "m: unknown quality code 77"],
    ["a null metric", { value: null, isNull: true }, "float", "missing_value", "m: the metric is null"],
    ["a fraction for an integer point", { value: 2.5, type: "Double" }, "integer", "wrong_type", "m: expected integer, got 2.5 (Double)"],
    ["a timestamp a year off", { value: 1, timestamp: T0 - 366 * 86_400_000 }, "float", "bad_timestamp", `m: unusable timestamp ${T0 - 366 * 86_400_000}`],
  ] as const)("refuses %s, keeping the metric as JSON", (_title, m, dataType, reason, detail) => {
    const { samples, rejections } = convert(m, dataType);
    expect(samples).toEqual([]);
    expect(rejections).toEqual([expect.objectContaining({ reason, detail, dataPointId: 7 })]);
    expect(JSON.parse(rejections[0]!.payload)).toMatchObject({ isNull: m.value === null });
  });
});

describe("SparkplugHost", () => {
  const rows: BindingRow[] = [
    { dataPointId: 1, machineId: 10, machinePath: "e/s/a/l/m", name: "temperature", dataType: "float", mqttTopic: null, mqttField: null, sparkplugGroup: "g", sparkplugNode: "n", sparkplugDevice: "d", sparkplugMetric: "Temp" },
    { dataPointId: 2, machineId: 11, machinePath: "e/s/a/l/m2", name: "uptime", dataType: "integer", mqttTopic: null, mqttField: null, sparkplugGroup: "g", sparkplugNode: "n", sparkplugDevice: null, sparkplugMetric: "Uptime" },
  ];
  const raw = (topic: string, payload: Parameters<typeof encodeSparkplug>[0]) => ({ source: "mqtt", topic, payload: encodeSparkplug(payload), receivedAt: T0 });

  function host() {
    const bus = new Bus(createLogger("silent"));
    const published: { topic: string; payload: SparkplugPayload }[] = [];
    const connectivity: BusEvents["machineConnectivity"][] = [];
    bus.on("test", "machineConnectivity", (c) => void connectivity.push(c));
    const h = new SparkplugHost(async (topic, payload) => void published.push({ topic, payload: decodeSparkplug(payload) }), bus, createLogger("silent"));
    h.setBindings(new SparkplugBindings(rows));
    return { h, published, connectivity };
  }

  it("stores bound metrics with their quality, emits machineConnectivity on births and deaths, and sends NCMD rebirth on a gap", () => {
    const { h, published, connectivity } = host();
    h.accept(raw("spBv1.0/g/NBIRTH/n", { timestamp: T0, seq: 0, metrics: [{ name: "bdSeq", type: "UInt64", value: 0 }, { name: "Uptime", alias: 1, type: "Int32", value: 3 }] }));
    h.accept(raw("spBv1.0/g/DBIRTH/n/d", { timestamp: T0, seq: 1, metrics: [{ name: "Temp", alias: 2, type: "Double", value: 20 }] }));
    const data = h.accept(raw("spBv1.0/g/DDATA/n/d", { timestamp: T0, seq: 2, metrics: [{ alias: 2, type: "Double", value: 21.5, properties: { Quality: { type: "Int32", value: 500 } } }] }));
    expect(data).toEqual({ samples: [{ dataPointId: 1, machineId: 10, metric: "temperature", ts: T0, value: 21.5, quality: "uncertain" }], rejections: [] });
    expect(connectivity.map((c) => [c.machineId, c.online, c.reason])).toEqual([["11", true, "sparkplug NBIRTH g/n"], ["10", true, "sparkplug DBIRTH g/n/d"]]);

    h.accept(raw("spBv1.0/g/DDATA/n/d", { timestamp: T0, seq: 9, metrics: [{ alias: 2, type: "Double", value: 22 }] }));
    expect(published.map((p) => p.topic)).toEqual(["spBv1.0/g/NCMD/n"]);
    expect(published[0]!.payload.metrics).toEqual([expect.objectContaining({ name: REBIRTH_METRIC, value: true })]);

    h.accept(raw("spBv1.0/g/NDEATH/n", { timestamp: T0, metrics: [{ name: "bdSeq", type: "UInt64", value: 0 }] }));
    expect(connectivity.slice(2)).toEqual([
      { machineId: "10", online: false, at: new Date(T0), reason: "sparkplug NDEATH g/n" },
      { machineId: "11", online: false, at: new Date(T0), reason: "sparkplug NDEATH g/n" },
    ]);
  });

  it("quarantines what it cannot decode or resolve, and ignores STATE and commands", () => {
    const { h } = host();
    expect(h.accept({ source: "mqtt", topic: "spBv1.0/g/NDATA/n", payload: Buffer.from([0xff, 0xff, 0xff]), receivedAt: T0 }).rejections[0]?.reason).toBe("malformed_payload");
    const early = h.accept(raw("spBv1.0/g/NDATA/n", { timestamp: T0, seq: 1, metrics: [{ alias: 1, type: "Int32", value: 3 }] }));
    expect(early.rejections.map((r) => [r.reason, r.detail])).toEqual([["unknown_metric", "edge node g/n has not been born"]]);
    expect(JSON.parse(early.rejections[0]!.payload)).toMatchObject({ alias: 1, value: 3 });
    expect(h.accept({ source: "mqtt", topic: "spBv1.0/STATE/plantgraph", payload: Buffer.from("{}"), receivedAt: T0 })).toEqual({ samples: [], rejections: [] });
  });
});
