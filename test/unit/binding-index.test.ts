import { describe, expect, it } from "vitest";
import type { BindingRow } from "../../src/assets/asset.queries.js";
import { type Binding, BindingIndex, bindingFromRow } from "../../src/ingest/binding-index.js";

const PRESS = "acme/plant1/press/line1/press-01";
const LATHE = "acme/plant1/turning/line2/lathe-07";
const OVEN = "globex/site9/bake/line1/oven-03";

let nextId = 1;
function row(overrides: Partial<BindingRow> = {}): BindingRow {
  return {
    dataPointId: nextId++,
    machineId: 1,
    machinePath: PRESS,
    name: "temperature",
    dataType: "float",
    mqttTopic: null,
    mqttField: null,
    sparkplugGroup: null,
    sparkplugNode: null,
    sparkplugDevice: null,
    sparkplugMetric: null,
    ...overrides,
  };
}

function binding(dataPointId: number, topicFilter: string, overrides: Partial<Binding> = {}): Binding {
  return { dataPointId, machineId: 1, metric: `m${dataPointId}`, dataType: "float", topicFilter, field: undefined, ...overrides };
}

const ids = (bindings: readonly Binding[]) => bindings.map((b) => b.dataPointId);

describe("bindingFromRow", () => {
  it("defaults the topic to <machinePath>/<name> when neither topic nor field is set", () => {
    const b = bindingFromRow(row({ dataPointId: 5, machineId: 9, name: "speed", dataType: "integer" }));
    expect(b).toEqual({
      dataPointId: 5,
      machineId: 9,
      metric: "speed",
      dataType: "integer",
      topicFilter: `${PRESS}/speed`,
      field: undefined,
      machinePath: PRESS,
    });
  });

  it("defaults the topic to the machine path itself when only a field is set", () => {
    const b = bindingFromRow(row({ name: "temperature", mqttField: "temp" }));
    expect(b.topicFilter).toBe(PRESS);
    expect(b.field).toBe("temp");
  });

  it("keeps an explicit topic, with or without a field", () => {
    expect(bindingFromRow(row({ mqttTopic: "legacy/plc7/temp" })).topicFilter).toBe("legacy/plc7/temp");
    const withField = bindingFromRow(row({ mqttTopic: "legacy/plc7/all", mqttField: "t1" }));
    expect(withField.topicFilter).toBe("legacy/plc7/all");
    expect(withField.field).toBe("t1");
  });

  it("keeps an explicit wildcard topic", () => {
    expect(bindingFromRow(row({ mqttTopic: "legacy/+/temp" })).topicFilter).toBe("legacy/+/temp");
  });

  it("turns a null field into undefined", () => {
    expect(bindingFromRow(row({ mqttField: null })).field).toBeUndefined();
  });
});

describe("BindingIndex.lookup", () => {
  const exactA = binding(1, `${PRESS}/temperature`);
  const exactB = binding(2, PRESS, { field: "temp" });
  const exactC = binding(3, PRESS, { field: "speed" });
  const anyMachineSpeed = binding(4, "acme/plant1/+/+/+/speed");
  const wholeLine = binding(5, "acme/plant1/press/line1/#");
  const legacy = binding(6, "legacy/plc7/temp");
  const index = new BindingIndex([exactA, exactB, exactC, anyMachineSpeed, wholeLine, legacy]);

  it("counts its bindings", () => {
    expect(index.size).toBe(6);
  });

  it.each([
    ["an exact topic with one binding", "legacy/plc7/temp", [6]],
    ["an exact topic also under a # filter", `${PRESS}/temperature`, [1, 5]],
    ["several exact bindings on one topic, plus a # filter", PRESS, [2, 3, 5]],
    ["a topic matched by two wildcard filters", `${PRESS}/speed`, [4, 5]],
    ["a topic matched by + on another machine", `${LATHE}/speed`, [4]],
    ["the parent level of a # filter", "acme/plant1/press/line1", [5]],
    ["an unbound topic", "acme/plant1/turning/line2/lathe-07/temperature", []],
    ["a prefix of an exact topic", "legacy/plc7", []],
    ["an extension of an exact topic", "legacy/plc7/temp/x", []],
  ])("%s", (_case, topic, expected) => {
    expect(ids(index.lookup(topic))).toEqual(expected);
  });

  it("returns the same bindings on a repeated (cached) lookup", () => {
    const first = index.lookup(`${PRESS}/speed`);
    const second = index.lookup(`${PRESS}/speed`);
    expect(ids(second)).toEqual([4, 5]);
    expect(ids(second)).toEqual(ids(first));
  });

  it("does not return a cached answer for a different topic", () => {
    const fresh = new BindingIndex([exactA, exactB, exactC, anyMachineSpeed, wholeLine, legacy]);
    expect(ids(fresh.lookup(`${PRESS}/speed`))).toEqual([4, 5]);
    expect(ids(fresh.lookup(`${LATHE}/speed`))).toEqual([4]);
    expect(ids(fresh.lookup("legacy/plc7/temp"))).toEqual([6]);
    expect(ids(fresh.lookup("nowhere"))).toEqual([]);
    // An empty answer is cached too, and does not leak onto other topics.
    expect(ids(fresh.lookup("nowhere"))).toEqual([]);
    expect(ids(fresh.lookup(`${PRESS}/speed`))).toEqual([4, 5]);
    expect(ids(fresh.lookup(PRESS))).toEqual([2, 3, 5]);
  });

  it("returns the binding objects themselves", () => {
    expect(index.lookup("legacy/plc7/temp")[0]).toBe(legacy);
  });

  it("honours $SYS rules for wildcard bindings", () => {
    const sys = new BindingIndex([binding(1, "#"), binding(2, "$SYS/#")]);
    expect(ids(sys.lookup("$SYS/broker/uptime"))).toEqual([2]);
    expect(ids(sys.lookup("a/b"))).toEqual([1]);
  });

  it("builds from rows with their default topics", () => {
    const fromRows = BindingIndex.fromRows([
      row({ dataPointId: 21, name: "temperature" }),
      row({ dataPointId: 22, name: "speed", mqttField: "spd" }),
      row({ dataPointId: 23, name: "count", mqttField: "cnt" }),
    ]);
    expect(ids(fromRows.lookup(`${PRESS}/temperature`))).toEqual([21]);
    expect(ids(fromRows.lookup(PRESS))).toEqual([22, 23]);
    expect(ids(fromRows.lookup(`${PRESS}/speed`))).toEqual([]);
  });

  it("leaves out points bound to a Sparkplug metric: they are read from Sparkplug only", () => {
    const fromRows = BindingIndex.fromRows([
      row({ dataPointId: 31, name: "temperature" }),
      row({ dataPointId: 32, name: "pressure", sparkplugGroup: "g", sparkplugNode: "n" }),
    ]);
    expect(ids(fromRows.lookup(`${PRESS}/temperature`))).toEqual([31]);
    expect(ids(fromRows.lookup(`${PRESS}/pressure`))).toEqual([]);
  });
});

describe("BindingIndex.subscriptionFilters", () => {
  it("subscribes to <enterprise>/# per enterprise, deduplicated and sorted", () => {
    const index = BindingIndex.fromRows([
      row({ machinePath: OVEN, name: "temperature" }),
      row({ machinePath: PRESS, name: "temperature" }),
      row({ machinePath: PRESS, name: "speed" }),
      row({ machinePath: LATHE, name: "speed", mqttField: "spd" }),
      row({ machinePath: OVEN, name: "humidity" }),
    ]);
    expect(index.subscriptionFilters()).toEqual(["acme/#", "globex/#"]);
  });

  it("adds explicit topics outside every enterprise, and not those inside one", () => {
    const index = BindingIndex.fromRows([
      row({ machinePath: PRESS, name: "temperature" }),
      row({ machinePath: PRESS, name: "pressure", mqttTopic: "acme/legacy/press-01/p" }),
      row({ machinePath: PRESS, name: "speed", mqttTopic: "plc7/speed" }),
      row({ machinePath: PRESS, name: "count", mqttTopic: "plc7/speed" }),
      row({ machinePath: LATHE, name: "temp", mqttTopic: "+/lathe/temp" }),
      row({ machinePath: OVEN, name: "door", mqttTopic: "zeta/oven/door", mqttField: "open" }),
      row({ machinePath: OVEN, name: "fan", mqttTopic: "$SYS/oven/fan" }),
      row({ machinePath: OVEN, name: "heat", mqttTopic: "globex/x/heat" }),
    ]);
    expect(index.subscriptionFilters()).toEqual(["$SYS/oven/fan", "+/lathe/temp", "acme/#", "globex/#", "plc7/speed", "zeta/oven/door"]);
  });

  it("treats a topic whose first level only starts like an enterprise as outside it", () => {
    const index = BindingIndex.fromRows([
      row({ machinePath: PRESS, name: "temperature" }),
      row({ machinePath: PRESS, name: "speed", mqttTopic: "acme-old/press/speed" }),
    ]);
    expect(index.subscriptionFilters()).toEqual(["acme-old/press/speed", "acme/#"]);
  });

  it("is empty without bindings", () => {
    expect(new BindingIndex([]).subscriptionFilters()).toEqual([]);
  });

  it("lists each distinct topic filter, sorted, when bindings carry no machine path", () => {
    const index = new BindingIndex([binding(1, "b/x"), binding(2, "a/+/y"), binding(3, "b/x"), binding(4, "a/#")]);
    expect(index.subscriptionFilters()).toEqual(["a/#", "a/+/y", "b/x"]);
  });

  it("every binding's topic filter is covered by some subscription", () => {
    const rows = [
      row({ machinePath: PRESS, name: "temperature" }),
      row({ machinePath: LATHE, name: "speed", mqttField: "spd" }),
      row({ machinePath: OVEN, name: "fan", mqttTopic: "plc9/+/fan" }),
    ];
    const index = BindingIndex.fromRows(rows);
    const filters = index.subscriptionFilters();
    for (const b of index.bindings) {
      const covered = filters.some((f) => f === b.topicFilter || (f.endsWith("/#") && b.topicFilter.startsWith(f.slice(0, -1))));
      expect(covered, b.topicFilter).toBe(true);
    }
  });
});
