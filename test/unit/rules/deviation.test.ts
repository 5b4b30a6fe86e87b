import { describe, expect, it } from "vitest";
import { seedState } from "../../../src/rules/evaluate.js";
import { initialState, windowSize, type DeviationState } from "../../../src/rules/rule-state.js";
import { at, ruleOf, run, series, timeline, type Step } from "./rule-harness.js";

const slower = { kind: "deviation", direction: "below", percent: 15, minSamples: 30 } as const;
/** 40 samples every 10 s around 120 (119, 120, 121, ...): a median of 120. */
const learning: Step[] = series(0, 10, Array.from({ length: 40 }, (_, i) => 119 + (i % 3)));
const after = (seconds: number, values: readonly number[]): Step[] => series(400 + seconds, 10, values);
const deviationState = (state: unknown): DeviationState => state as DeviationState;

describe("deviation rule", () => {
  it("learns a baseline, then fires on a 15 % slower machine naming the baseline", () => {
    const { transitions, state } = run(ruleOf(slower, "speed"), [...learning, ...after(0, [101.6])]);
    expect(deviationState(state).baseline).toBe(120);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({
      type: "raised",
      value: 101.6,
      message: "speed 15.3 % below its baseline 120 (median of 1 h)",
      detail: { baseline: 120, statistic: "median", percent: 15, baselineSamples: 40 },
    });
  });

  it("does not fire while the baseline is not learned (fewer than minSamples)", () => {
    const { transitions, state } = run(ruleOf(slower), [...learning.slice(0, 28), ...after(0, [50])]);
    expect(transitions).toEqual([]);
    expect(deviationState(state).baseline).toBeNull();
  });

  it("does not learn from its own firing period, so a slow machine never becomes its own normal", () => {
    const rule = ruleOf(slower, "speed");
    // 400 slow samples span 4000 s: more than the 1 h window, so learning them would replace the baseline.
    const firing = run(rule, [...learning, ...after(0, Array<number>(400).fill(101.6))]);
    expect(timeline(firing.transitions)).toEqual(["raised@400"]);
    expect(firing.phases.at(-1)).toBe("FIRING");
    expect(deviationState(firing.state).baseline).toBe(120);
    expect(windowSize(deviationState(firing.state).history)).toBe(40);

    const back = run(rule, after(4000, [120]), firing.state);
    expect(back.transitions.map((t) => t.message)).toEqual(["speed 120 back within 15 % of its baseline 120"]);
  });

  it("does not learn from samples taken while PENDING either", () => {
    const rule = ruleOf({ ...slower, forSeconds: 60 });
    const { transitions, state } = run(rule, [...learning, ...after(0, [100, 100, 100, 120])]);
    expect(transitions).toEqual([]);
    // Not even the 120 that ended PENDING: it was taken while PENDING.
    expect(windowSize(deviationState(state).history)).toBe(40);
    expect(deviationState(state).baseline).toBe(120);
  });

  it("clears only once the deviation is back inside percent − hysteresisPercent", () => {
    // 15 % fires; 13 % (the default hysteresis of 2 points) is the clearing line: 104.4 for a baseline of 120.
    const { transitions, phases } = run(ruleOf(slower), [...learning, ...after(0, [100, 104, 104.3, 104.5])]);
    expect(timeline(transitions)).toEqual(["raised@400", "cleared@430"]);
    expect(phases.slice(-4)).toEqual(["FIRING", "FIRING", "FIRING", "NORMAL"]);
  });

  it.each([
    ["below", 140, []],
    ["below", 100, ["raised@400"]],
    ["above", 140, ["raised@400"]],
    ["above", 100, []],
    ["either", 140, ["raised@400"]],
    ["either", 100, ["raised@400"]],
    ["either", 110, []],
  ] as const)("direction %s, value %d after a baseline of 120", (direction, value, expected) => {
    expect(timeline(run(ruleOf({ ...slower, direction }), [...learning, ...after(0, [value])]).transitions)).toEqual(expected);
  });

  it.each([
    ["median", ["raised@300"], "(median of 1 h)"],
    ["mean", [], undefined],
  ] as const)("uses the %s as the baseline", (statistic, expected, naming) => {
    // 20 × 100 and 10 × 130: a median of 100 and a mean of 110; 120 is 20 % above the one, 9 % above the other.
    const learned = series(0, 10, [...Array<number>(20).fill(100), ...Array<number>(10).fill(130), 120]);
    const { transitions } = run(ruleOf({ ...slower, direction: "above", statistic }), learned);
    expect(timeline(transitions)).toEqual(expected);
    if (naming) expect(transitions[0]?.message).toContain(naming);
  });

  it("forgets samples older than the baseline window", () => {
    const rule = ruleOf(slower);
    const { transitions, state } = run(rule, [...series(0, 10, Array<number>(30).fill(100)), ...series(4000, 10, [...Array<number>(30).fill(200), 160])]);
    expect(deviationState(state).baseline).toBe(200);
    expect(transitions.map((t) => t.message)).toEqual(["temperature 20 % below its baseline 200 (median of 1 h)"]);
  });

  it("computes an exact median, even counts included", () => {
    const rule = ruleOf({ ...slower, minSamples: 2 });
    const history = (values: readonly number[]) => values.map((value, i) => ({ ts: at(i), value }));
    const even = seedState(rule, initialState(rule.params), history([100, 102, 100, 102]));
    expect(deviationState(even).baseline).toBe(101);

    let seed = 12345;
    const random = Array.from({ length: 501 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor(seed / 2 ** 16) % 50; // many duplicates
    });
    const sorted = [...random].sort((a, b) => a - b);
    const odd = seedState(rule, initialState(rule.params), history(random));
    expect(deviationState(odd).baseline).toBe(sorted[250]);
  });

  it("a seeded baseline fires on the first live sample", () => {
    const rule = ruleOf(slower, "speed");
    const seeded = seedState(rule, initialState(rule.params), Array.from({ length: 40 }, (_, i) => ({ ts: at(i * 10), value: 120 })));
    expect(run(rule, after(0, [100]), seeded).transitions.map((t) => t.message)).toEqual(["speed 16.7 % below its baseline 120 (median of 1 h)"]);
  });
});
