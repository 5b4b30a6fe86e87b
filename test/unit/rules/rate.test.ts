import { describe, expect, it } from "vitest";
import type { RateState } from "../../../src/rules/rule-state.js";
import { ruleOf, run, sample, series, timeline } from "./rule-harness.js";

const rising10 = { kind: "rate", maxPerMinute: 10, windowSeconds: 60, direction: "rising" } as const;
/** +2 every 10 s (12 per minute) from 0 to 20 at 100 s, then flat. */
const rampThenFlat = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 20, 20, 20, 20, 20, 20, 20];
const rampDown = rampThenFlat.map((v) => 100 - v);

describe("rate rule", () => {
  it.each([
    ["rising, on a rising ramp", rising10, rampThenFlat, ["raised@60", "cleared@120"]],
    ["rising, on a falling ramp", rising10, rampDown, []],
    ["falling, on a falling ramp", { ...rising10, direction: "falling" }, rampDown, ["raised@60", "cleared@120"]],
    ["falling, on a rising ramp", { ...rising10, direction: "falling" }, rampThenFlat, []],
    ["either, on a falling ramp", { ...rising10, direction: "either" }, rampDown, ["raised@60", "cleared@120"]],
    ["a change allowed by a higher maximum", { ...rising10, maxPerMinute: 12 }, rampThenFlat, []],
    ["a 2 min window averages the 100 s ramp with the flat part", { ...rising10, windowSeconds: 120 }, rampThenFlat, []],
    ["forSeconds confirms the rate", { ...rising10, forSeconds: 30 }, rampThenFlat, ["raised@90", "cleared@120"]],
  ] as const)("%s", (_case, params, values, expected) => {
    expect(timeline(run(ruleOf(params), series(0, 10, values)).transitions)).toEqual(expected);
  });

  it("measures against the reading at least windowSeconds old, and says so", () => {
    const { transitions, state } = run(ruleOf(rising10, "pressure"), series(0, 10, rampThenFlat.slice(0, 7)));
    expect((state as RateState).ratePerMinute).toBe(12);
    expect(transitions[0]).toMatchObject({
      message: "pressure rising 12 per min (more than 10 per min over 60 s)",
      detail: { ratePerMinute: 12, maxPerMinute: 10, windowSeconds: 60 },
    });
  });

  it("judges nothing before a full window, however steep the first change", () => {
    expect(run(ruleOf(rising10), series(0, 10, [0, 100, 200])).transitions).toEqual([]);
  });

  it("measures slow samplers against their previous reading", () => {
    // One sample every 2 min with a 1 min window: 30 in 2 min is 15 per minute.
    expect(timeline(run(ruleOf(rising10), series(0, 120, [0, 30, 40])).transitions)).toEqual(["raised@120", "cleared@240"]);
  });

  it("ignores late and bad samples, so they cannot corrupt the window", () => {
    const steps = series(0, 10, rampThenFlat);
    const noisy = [...steps.slice(0, 5), sample(5, 1000), sample(45, -1000, "bad"), ...steps.slice(5)];
    const clean = run(ruleOf(rising10), steps);
    const withNoise = run(ruleOf(rising10), noisy);
    expect(timeline(withNoise.transitions)).toEqual(timeline(clean.transitions));
    expect(withNoise.state).toEqual(clean.state);
  });
});
