import { describe, expect, it } from "vitest";
import { normalizeOpcua, qualityOfStatus, type OpcuaTarget } from "../../src/opcua/opcua.normalizer.js";
import type { OpcuaChange } from "../../src/opcua/opcua.source.js";

const RECEIVED = Date.parse("2026-11-25T08:00:00Z");
const targets = new Map<number, OpcuaTarget>([
  [1, { dataPointId: 1, machineId: 9, metric: "temperature", dataType: "float", address: "plc ns=2;s=T" }],
  [2, { dataPointId: 2, machineId: 9, metric: "parts", dataType: "integer", address: "plc ns=2;s=P" }],
  [3, { dataPointId: 3, machineId: 9, metric: "running", dataType: "boolean", address: "plc ns=2;s=R" }],
]);
const GOOD = 0;
const UNCERTAIN_LAST_USABLE = 0x40900000;
const BAD_COMMUNICATION = 0x80050000;
const change = (key: number, value: unknown, statusCode = GOOD, sourceTimestamp = RECEIVED - 500): OpcuaChange => ({
  key,
  value,
  statusCode,
  sourceTimestamp,
  serverTimestamp: RECEIVED - 400,
  receivedAt: RECEIVED,
});

describe("qualityOfStatus", () => {
  it.each([
    [GOOD, "good"],
    [0x00a20000, "good"], // GoodLocalOverride
    [UNCERTAIN_LAST_USABLE, "uncertain"],
    [BAD_COMMUNICATION, "bad"],
    [0xc0000000, "bad"], // the reserved severity counts as bad
  ])("0x%s is %s", (code, quality) => expect(qualityOfStatus(code)).toBe(quality));
});

describe("normalizeOpcua", () => {
  it.each([
    ["a Double, with its source timestamp", change(1, 71.25), { dataPointId: 1, value: 71.25, ts: RECEIVED - 500, quality: "good" }],
    ["an uncertain value, kept with its quality", change(1, 70, UNCERTAIN_LAST_USABLE), { value: 70, quality: "uncertain" }],
    ["a bad value that still carries a number, flagged bad", change(1, 69, BAD_COMMUNICATION), { value: 69, quality: "bad" }],
    ["a UInt32 counter", change(2, 4_000_000_000), { dataPointId: 2, value: 4_000_000_000 }],
    ["an Int64 as [high, low] words", change(2, [1, 5]), { value: 2 ** 32 + 5 }],
    ["a Boolean", change(3, true), { dataPointId: 3, value: 1 }],
    ["no source timestamp: the server's", { ...change(1, 1), sourceTimestamp: undefined }, { ts: RECEIVED - 400 }],
    ["no timestamps at all: the receive time", { ...change(1, 1), sourceTimestamp: undefined, serverTimestamp: undefined }, { ts: RECEIVED }],
  ])("stores %s", (_title, input, expected) => {
    const { samples, rejections } = normalizeOpcua([input], targets);
    expect(rejections).toEqual([]);
    expect(samples).toEqual([expect.objectContaining({ machineId: 9, ...expected })]);
  });

  it.each([
    ["a string for a float", change(1, "hot"), "wrong_type", /temperature: expected float, got "hot"/],
    ["a fraction for an integer", change(2, 2.5), "wrong_type", /parts: expected integer, got 2.5/],
    ["a source clock two days off", change(1, 1, GOOD, RECEIVED - 2 * 86_400_000), "bad_timestamp", /unusable source timestamp/],
  ])("refuses %s, saying where it came from", (_title, input, reason, detail) => {
    const { samples, rejections } = normalizeOpcua([input], targets);
    expect(samples).toEqual([]);
    expect(rejections).toEqual([expect.objectContaining({ source: "opcua", reason, detail: expect.stringMatching(detail), dataPointId: input.key, topic: targets.get(input.key)!.address })]);
  });

  it("drops a bad status without a value (BadWaitingForInitialData) and items of no data point, keeping the rest", () => {
    const { samples, rejections } = normalizeOpcua([change(1, null, 0x80320000), change(99, 5), change(2, 7)], targets);
    expect(rejections).toEqual([]);
    expect(samples.map((s) => [s.dataPointId, s.value])).toEqual([[2, 7]]);
  });
});
