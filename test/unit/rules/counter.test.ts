import { describe, expect, it } from "vitest";
import type { CounterState } from "../../../src/rules/rule-state.js";
import { ruleOf, run, sample, series, tick } from "./rule-harness.js";

const batches500 = { kind: "counter", batchSize: 500 } as const;
const counted = (values: readonly number[], params: { kind: "counter"; batchSize: number; resetTolerance?: number } = batches500) => {
  const result = run(ruleOf(params, "parts"), series(0, 10, values));
  return { ...result, counter: result.state as CounterState, messages: result.transitions.map((t) => t.message) };
};

describe("counter rule", () => {
  it.each([
    ["a steady count", [0, 250, 499, 500, 999, 1000], ["batch 1 of 500 parts completed", "batch 2 of 500 parts completed"]],
    ["a first reading far from 0 counts nothing", [12_345, 12_600, 12_845], ["batch 1 of 500 parts completed"]],
    ["a reset continues from the new value", [0, 400, 10, 110], ["batch 1 of 500 parts completed"]],
    ["a jump completes several batches in one event", [0, 1700, 2000], ["batches 1 to 3 of 500 parts completed", "batch 4 of 500 parts completed"]],
    ["no parts, no batches", [300, 300, 300], []],
  ])("%s", (_case, values, expected) => {
    expect(counted(values).messages).toEqual(expected);
  });

  it("reports the batch number, the parts counted and the counter value", () => {
    const { transitions, counter } = counted([0, 1700]);
    expect(transitions[0]).toMatchObject({
      type: "batch_completed",
      value: 1700,
      detail: { batchNumber: 3, firstBatchNumber: 1, batchesCompleted: 3, batchSize: 500, count: 1700, counterValue: 1700 },
    });
    expect(counter.partsInBatch).toBe(200);
  });

  it("never counts negative parts across a reset", () => {
    const { counter } = counted([0, 400, 10, 110]);
    expect(counter).toMatchObject({ totalParts: 500, resets: 1, reference: 110, partsInBatch: 0, batches: 1 });
  });

  it.each([
    ["inside resetTolerance is read jitter: nothing counted twice", 2, 500, 0],
    ["beyond resetTolerance is a reset", 0, 501, 1],
  ])("a drop of one part %s", (_case, resetTolerance, count, resets) => {
    const { transitions, counter } = counted([0, 300, 299, 500, 500], { ...batches500, resetTolerance });
    expect(transitions).toHaveLength(1);
    expect(transitions[0]?.detail).toMatchObject({ count });
    expect(counter.resets).toBe(resets);
  });

  it("ignores late and bad samples, which would otherwise look like resets or jumps", () => {
    const rule = ruleOf(batches500);
    const { transitions, state } = run(rule, [sample(0, 0), sample(20, 400), sample(10, 100), sample(25, 5000, "bad"), sample(30, 500)]);
    expect(transitions.map((t) => t.message)).toEqual(["batch 1 of 500 parts completed"]);
    expect(state).toMatchObject({ resets: 0, totalParts: 500 });
  });

  it("never leaves NORMAL, and ticks do nothing", () => {
    const { phases, transitions } = run(ruleOf(batches500), [sample(0, 0), sample(10, 5000), tick(20), tick(1000)]);
    expect(phases).toEqual(["NORMAL", "NORMAL", "NORMAL", "NORMAL"]);
    expect(transitions.map((t) => t.type)).toEqual(["batch_completed"]);
  });
});
