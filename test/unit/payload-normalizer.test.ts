import { describe, expect, it } from "vitest";
import type { Binding } from "../../src/ingest/binding-index.js";
import { normalize, parseTimestamp } from "../../src/ingest/payload.normalizer.js";
import type { RawReading } from "../../src/telemetry/sample.js";

const TOPIC = "acme/plant1/press/line1/press-01";
const RECEIVED_AT = Date.parse("2024-05-01T12:00:00.000Z");
const DAY_MS = 24 * 3_600_000;

function binding(overrides: Partial<Binding> = {}): Binding {
  return {
    dataPointId: 11,
    machineId: 7,
    metric: "temperature",
    dataType: "float",
    topicFilter: `${TOPIC}/temperature`,
    field: undefined,
    ...overrides,
  };
}

function raw(payload: string | Buffer, receivedAt = RECEIVED_AT, topic = `${TOPIC}/temperature`): RawReading {
  return { source: "mqtt", topic, payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : payload, receivedAt };
}

const json = (value: unknown) => JSON.stringify(value);

describe("normalize: one data point", () => {
  it("reads {value, ts} with an ISO timestamp", () => {
    const ts = "2024-05-01T11:59:58.250Z";
    const result = normalize(raw(json({ value: 71.3, ts })), [binding()]);
    expect(result.rejections).toEqual([]);
    expect(result.samples).toEqual([
      { dataPointId: 11, machineId: 7, metric: "temperature", ts: Date.parse(ts), value: 71.3, quality: "good" },
    ]);
  });

  it("reads `timestamp` when `ts` is absent", () => {
    const timestamp = "2024-05-01T11:00:00Z";
    const result = normalize(raw(json({ value: 1, timestamp })), [binding()]);
    expect(result.samples[0]?.ts).toBe(Date.parse(timestamp));
  });

  it("reads a bare number, stamped with the receive time", () => {
    const result = normalize(raw("71.3"), [binding()]);
    expect(result.rejections).toEqual([]);
    expect(result.samples).toEqual([
      { dataPointId: 11, machineId: 7, metric: "temperature", ts: RECEIVED_AT, value: 71.3, quality: "good" },
    ]);
  });

  it.each([
    ["true", 1],
    ["false", 0],
    ["1", 1],
    ["0", 0],
  ])("reads bare %s for a boolean point as %d", (payload, value) => {
    const result = normalize(raw(payload), [binding({ metric: "running", dataType: "boolean" })]);
    expect(result.rejections).toEqual([]);
    expect(result.samples).toHaveLength(1);
    expect(result.samples[0]).toMatchObject({ metric: "running", value, ts: RECEIVED_AT, quality: "good" });
  });

  it("reads an object's `value` field for a boolean point", () => {
    const result = normalize(raw(json({ value: true })), [binding({ dataType: "boolean" })]);
    expect(result.samples.map((s) => s.value)).toEqual([1]);
  });

  it("accepts a whole number for an integer point", () => {
    const result = normalize(raw(json({ value: 42 })), [binding({ metric: "count", dataType: "integer" })]);
    expect(result.rejections).toEqual([]);
    expect(result.samples[0]).toMatchObject({ metric: "count", value: 42 });
  });

  it("accepts negative and zero floats", () => {
    expect(normalize(raw("-3.5"), [binding()]).samples[0]?.value).toBe(-3.5);
    expect(normalize(raw("0"), [binding()]).samples[0]?.value).toBe(0);
  });
});

describe("normalize: several data points on one topic", () => {
  const machineTopic = TOPIC;
  const temperature = binding({ dataPointId: 1, metric: "temperature", dataType: "float", topicFilter: machineTopic, field: "temp" });
  const count = binding({ dataPointId: 2, metric: "count", dataType: "integer", topicFilter: machineTopic, field: "count" });
  const running = binding({ dataPointId: 3, metric: "running", dataType: "boolean", topicFilter: machineTopic, field: "on" });

  it("maps each field to its data point: one message, three samples", () => {
    const ts = "2024-05-01T11:59:59Z";
    const message = raw(json({ temp: 71.3, count: 1200, on: true, ts }), RECEIVED_AT, machineTopic);
    const result = normalize(message, [temperature, count, running]);
    expect(result.rejections).toEqual([]);
    expect(result.samples).toEqual([
      { dataPointId: 1, machineId: 7, metric: "temperature", ts: Date.parse(ts), value: 71.3, quality: "good" },
      { dataPointId: 2, machineId: 7, metric: "count", ts: Date.parse(ts), value: 1200, quality: "good" },
      { dataPointId: 3, machineId: 7, metric: "running", ts: Date.parse(ts), value: 1, quality: "good" },
    ]);
  });

  it("rejects a bad field alone; the good ones still become samples", () => {
    const message = raw(json({ temp: 71.3, count: "many", on: false }), RECEIVED_AT, machineTopic);
    const result = normalize(message, [temperature, count, running]);
    expect(result.samples.map((s) => [s.dataPointId, s.value])).toEqual([
      [1, 71.3],
      [3, 0],
    ]);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]).toMatchObject({
      source: "mqtt",
      topic: machineTopic,
      reason: "wrong_type",
      dataPointId: 2,
      payload: message.payload.toString("utf8"),
    });
    expect(result.rejections[0]?.detail).toContain("count");
    expect(result.rejections[0]?.detail).toContain("integer");
  });

  it("rejects a missing field as missing_value, keeping the others", () => {
    const message = raw(json({ temp: 71.3, on: true }), RECEIVED_AT, machineTopic);
    const result = normalize(message, [temperature, count, running]);
    expect(result.samples.map((s) => s.dataPointId)).toEqual([1, 3]);
    expect(result.rejections).toEqual([
      expect.objectContaining({ reason: "missing_value", dataPointId: 2, detail: expect.stringContaining('"count"') }),
    ]);
  });
});

describe("normalize: rejections", () => {
  it.each([
    ["field absent", json({ other: 1 }), binding({ field: "temp" })],
    ["field null", json({ temp: null }), binding({ field: "temp" })],
    ["default `value` absent", json({ val: 1 }), binding()],
    ["default `value` null", json({ value: null }), binding()],
    ["bare value but a field is bound", "71.3", binding({ field: "temp" })],
  ])("%s → missing_value", (_case, payload, b) => {
    const result = normalize(raw(payload), [b]);
    expect(result.samples).toEqual([]);
    expect(result.rejections).toEqual([expect.objectContaining({ reason: "missing_value", dataPointId: b.dataPointId })]);
  });

  it.each([
    ["integer given 3.5", "integer", json({ value: 3.5 })],
    ["integer given a string", "integer", json({ value: "3" })],
    ["integer beyond safe range", "integer", "9007199254740993"],
    ["boolean given 2", "boolean", json({ value: 2 })],
    ["boolean given -1", "boolean", "-1"],
    ["boolean given \"true\"", "boolean", json({ value: "true" })],
    ["float given a string", "float", json({ value: "71.3" })],
    ["float given a boolean", "float", "true"],
    ["float given an object", "float", json({ value: { v: 1 } })],
    ["float given an array", "float", json({ value: [1] })],
  ] as const)("%s → wrong_type", (_case, dataType, payload) => {
    const result = normalize(raw(payload), [binding({ dataType })]);
    expect(result.samples).toEqual([]);
    expect(result.rejections).toEqual([
      expect.objectContaining({ reason: "wrong_type", dataPointId: 11, detail: expect.stringContaining(`expected ${dataType}`) }),
    ]);
  });

  it.each([
    ["not JSON", "temp=71.3"],
    ["truncated JSON", '{"value": 71'],
    ["empty payload", ""],
    ["JSON array", "[71.3]"],
    ["JSON array of objects", json([{ value: 71.3 }])],
    ["JSON string", json("71.3")],
    ["JSON null", "null"],
  ])("%s → malformed_payload, with no dataPointId", (_case, payload) => {
    const result = normalize(raw(payload), [binding(), binding({ dataPointId: 12, field: "x" })]);
    expect(result.samples).toEqual([]);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]).toMatchObject({ source: "mqtt", reason: "malformed_payload", payload });
    expect(result.rejections[0]).not.toHaveProperty("dataPointId");
  });

  it("no bindings → unknown_topic naming the topic", () => {
    const message = raw(json({ value: 1 }), RECEIVED_AT, "acme/unbound/topic");
    const result = normalize(message, []);
    expect(result.samples).toEqual([]);
    expect(result.rejections).toEqual([
      {
        source: "mqtt",
        topic: "acme/unbound/topic",
        payload: json({ value: 1 }),
        reason: "unknown_topic",
        detail: expect.stringContaining("acme/unbound/topic"),
      },
    ]);
  });

  it("no bindings wins over an unparseable payload", () => {
    expect(normalize(raw("not json"), []).rejections[0]?.reason).toBe("unknown_topic");
  });
});

describe("normalize: timestamps", () => {
  it("takes ts as epoch milliseconds", () => {
    const ts = RECEIVED_AT - 1_500;
    expect(normalize(raw(json({ value: 1, ts })), [binding()]).samples[0]?.ts).toBe(ts);
  });

  it("uses receivedAt when ts is absent", () => {
    expect(normalize(raw(json({ value: 1 })), [binding()]).samples[0]?.ts).toBe(RECEIVED_AT);
  });

  it.each([
    ["a day and a second early (ISO)", new Date(RECEIVED_AT - DAY_MS - 1_000).toISOString()],
    ["a day and a ms late (epoch ms)", RECEIVED_AT + DAY_MS + 1],
    ["epoch seconds instead of ms", Math.floor(RECEIVED_AT / 1000)],
    ["not a date", "yesterday-ish"],
    ["a boolean", true],
  ])("%s → bad_timestamp", (_case, ts) => {
    const result = normalize(raw(json({ value: 1, ts })), [binding()]);
    expect(result.samples).toEqual([]);
    expect(result.rejections).toEqual([expect.objectContaining({ reason: "bad_timestamp", dataPointId: 11 })]);
  });

  it("a bad timestamp rejects every field of the message, each with its own dataPointId", () => {
    const a = binding({ dataPointId: 1, field: "a" });
    const b = binding({ dataPointId: 2, field: "b" });
    const result = normalize(raw(json({ a: 1, b: 2, ts: "garbage" })), [a, b]);
    expect(result.samples).toEqual([]);
    expect(result.rejections.map((r) => [r.dataPointId, r.reason])).toEqual([
      [1, "bad_timestamp"],
      [2, "bad_timestamp"],
    ]);
  });
});

describe("parseTimestamp", () => {
  it.each([
    ["absent → receivedAt", undefined, RECEIVED_AT],
    ["ISO with Z", "2024-05-01T11:00:00Z", Date.parse("2024-05-01T11:00:00Z")],
    ["ISO with offset", "2024-05-01T14:00:00+02:00", Date.parse("2024-05-01T12:00:00Z")],
    ["epoch ms", RECEIVED_AT - 10, RECEIVED_AT - 10],
    ["fractional epoch ms is rounded", RECEIVED_AT + 0.6, RECEIVED_AT + 1],
    ["exactly a day early is still believed", RECEIVED_AT - DAY_MS, RECEIVED_AT - DAY_MS],
    ["exactly a day late is still believed", RECEIVED_AT + DAY_MS, RECEIVED_AT + DAY_MS],
    ["one ms beyond a day early", RECEIVED_AT - DAY_MS - 1, undefined],
    ["one ms beyond a day late", RECEIVED_AT + DAY_MS + 1, undefined],
    ["unparseable string", "not a date", undefined],
    ["empty string", "", undefined],
    ["null", null, undefined],
    ["boolean", true, undefined],
    ["object", { iso: "2024-05-01T12:00:00Z" }, undefined],
    ["NaN", Number.NaN, undefined],
    ["Infinity", Number.POSITIVE_INFINITY, undefined],
  ])("%s", (_case, ts, expected) => {
    expect(parseTimestamp(ts, RECEIVED_AT)).toBe(expected);
  });
});

describe("normalize: quality", () => {
  it.each([
    ["absent", undefined, "good"],
    ["good", "good", "good"],
    ["uncertain", "uncertain", "uncertain"],
    ["bad", "bad", "bad"],
    ["Sparkplug 192", 192, "good"],
    ["Sparkplug 500", 500, "uncertain"],
    ["Sparkplug 0", 0, "bad"],
  ])("%s → %s", (_case, quality, expected) => {
    const result = normalize(raw(json({ value: 5, quality })), [binding()]);
    expect(result.rejections).toEqual([]);
    expect(result.samples[0]?.quality).toBe(expected);
  });

  it.each([
    ["unknown word", "excellent"],
    ["upper case", "GOOD"],
    ["unknown Sparkplug code", 1],
    ["code as string", "192"],
    ["null", null],
    ["boolean", true],
  ])("%s → malformed_payload for that data point", (_case, quality) => {
    const result = normalize(raw(json({ value: 5, quality })), [binding()]);
    expect(result.samples).toEqual([]);
    expect(result.rejections).toEqual([
      expect.objectContaining({ reason: "malformed_payload", dataPointId: 11, detail: expect.stringContaining("quality") }),
    ]);
  });
});

describe("normalize: stored payload", () => {
  it("stores a payload over 4 KiB truncated to 4096 characters plus an ellipsis", () => {
    const payload = `x${"y".repeat(5_000)}`;
    const result = normalize(raw(payload), [binding()]);
    const stored = result.rejections[0]?.payload ?? "";
    expect(result.rejections[0]?.reason).toBe("malformed_payload");
    expect(stored).toHaveLength(4_097);
    expect(stored.endsWith("…")).toBe(true);
    expect(stored.slice(0, 4_096)).toBe(payload.slice(0, 4_096));
  });

  it("truncates a large JSON payload when one field of it is rejected", () => {
    const payload = json({ value: "not a number", padding: "p".repeat(6_000) });
    const result = normalize(raw(payload), [binding()]);
    expect(result.rejections[0]).toMatchObject({ reason: "wrong_type", dataPointId: 11 });
    expect(result.rejections[0]?.payload).toBe(`${payload.slice(0, 4_096)}…`);
  });

  it("stores a payload of exactly 4096 characters whole", () => {
    const payload = "z".repeat(4_096);
    const stored = normalize(raw(payload), [binding()]).rejections[0]?.payload;
    expect(stored).toBe(payload);
  });

  it("keeps the detail short even for a huge bad value", () => {
    const result = normalize(raw(json({ value: "v".repeat(10_000) })), [binding()]);
    expect(result.rejections[0]?.reason).toBe("wrong_type");
    expect(result.rejections[0]?.detail.length).toBeLessThan(200);
  });
});
