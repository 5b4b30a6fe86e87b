import { describe, expect, it } from "vitest";
import { ruleParams } from "../../../src/rules/rule.schema.js";

const messages = (input: unknown): string[] => {
  const result = ruleParams.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => i.message);
};

describe("ruleParams", () => {
  it.each([
    ["threshold", { kind: "threshold", condition: "above", limit: 80 }, { hysteresis: 0, forSeconds: 0, clearForSeconds: 0 }],
    [
      "deviation",
      { kind: "deviation", direction: "below", percent: 15 },
      { baselineWindowSeconds: 3600, minSamples: 30, statistic: "median", hysteresisPercent: 2, forSeconds: 0, clearForSeconds: 0 },
    ],
    ["rate", { kind: "rate", maxPerMinute: 5 }, { windowSeconds: 60, direction: "either", forSeconds: 0, clearForSeconds: 0 }],
    ["trend", { kind: "trend", limit: 7.1, direction: "rising", windowSeconds: 604800, horizonSeconds: 2592000 }, { minSamples: 20, minR2: 0, forSeconds: 0 }],
    ["counter", { kind: "counter", batchSize: 500 }, { resetTolerance: 0 }],
    ["stale", { kind: "stale", afterSeconds: 60 }, { afterSeconds: 60 }],
  ])("fills in the %s defaults", (_kind, input, defaults) => {
    expect(ruleParams.parse(input)).toMatchObject({ ...input, ...defaults });
  });

  it.each([
    ["outside with low ≥ high", { kind: "threshold", condition: "outside", low: 90, high: 60 }, "threshold 'outside' needs low < high"],
    ["outside without high", { kind: "threshold", condition: "outside", low: 60 }, "threshold 'outside' needs low and high"],
    ["outside with a limit", { kind: "threshold", condition: "outside", low: 60, high: 90, limit: 80 }, "threshold 'outside' takes low and high, not a limit"],
    [
      "outside with a hysteresis wider than the band",
      { kind: "threshold", condition: "outside", low: 60, high: 70, hysteresis: 5 },
      "threshold 'outside' needs hysteresis smaller than half of high − low, or it could never clear",
    ],
    ["above without a limit", { kind: "threshold", condition: "above" }, "threshold 'above' needs a limit"],
    ["below with low/high", { kind: "threshold", condition: "below", limit: 5, low: 1 }, "threshold 'below' takes a limit, not low/high"],
    ["a negative hysteresis", { kind: "threshold", condition: "above", limit: 80, hysteresis: -1 }, "threshold hysteresis must be 0 or more (absolute units)"],
    ["an unknown condition", { kind: "threshold", condition: "over", limit: 80 }, "threshold condition must be 'above', 'below' or 'outside'"],
    ["a negative forSeconds", { kind: "threshold", condition: "above", limit: 80, forSeconds: -5 }, "forSeconds must be 0 or more seconds"],
    ["a zero deviation percent", { kind: "deviation", direction: "below", percent: 0 }, "deviation percent must be more than 0 (15 means 15 %)"],
    [
      "a hysteresis at least the percent",
      { kind: "deviation", direction: "below", percent: 2 },
      "deviation hysteresisPercent must be smaller than percent, or the rule could never clear",
    ],
    ["a fractional minSamples", { kind: "deviation", direction: "below", percent: 10, minSamples: 2.5 }, "deviation minSamples must be a whole number of samples"],
    ["a zero rate", { kind: "rate", maxPerMinute: 0 }, "rate maxPerMinute must be more than 0"],
    ["a stale rule without afterSeconds", { kind: "stale" }, "stale afterSeconds must be a number of seconds"],
    ["a trend minR2 above 1", { kind: "trend", limit: 1, direction: "rising", windowSeconds: 60, horizonSeconds: 60, minR2: 2 }, "trend minR2 must be between 0 and 1"],
    ["a fractional batch size", { kind: "counter", batchSize: 2.5 }, "counter batchSize must be a whole number of parts"],
    ["an unknown kind", { kind: "average" }, "rule kind must be one of threshold, deviation, rate, stale, trend, counter"],
    ["a misspelt key", { kind: "stale", afterSeconds: 60, afterSecond: 5 }, 'Unrecognized key: "afterSecond"'],
  ])("refuses %s, saying what is expected", (_case, input, message) => {
    expect(messages(input)).toContain(message);
  });
});
