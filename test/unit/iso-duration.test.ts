import { describe, expect, it } from "vitest";
import { durationSeconds } from "../../src/graphql/data-point/iso-duration.js";

describe("durationSeconds", () => {
  it.each([
    ["PT1S", 1],
    ["PT0.5S", 0.5],
    ["PT1M", 60],
    ["PT15M", 900],
    ["PT1H", 3_600],
    ["PT1.5H", 5_400],
    ["P1D", 86_400],
    ["P1W", 604_800],
    ["P2W", 1_209_600],
    ["P1DT2H", 93_600],
    ["PT1H30M", 5_400],
    ["PT1M30.25S", 90.25],
    ["P1DT1H1M1S", 90_061],
    ["P1W1D", 691_200],
    ["PT0H1M", 60],
    ["P0DT5S", 5],
  ])("%s = %d s", (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });

  it.each([
    ["empty", ""],
    ["bare P", "P"],
    ["bare PT", "PT"],
    ["T without a time part", "P1DT"],
    ["no P", "1M"],
    ["no P before time", "T1M"],
    ["months are refused", "P1M"],
    ["years are refused", "P1Y"],
    ["years with days", "P1Y2D"],
    ["months with time", "P1MT1H"],
    ["zero seconds", "PT0S"],
    ["zero days", "P0D"],
    ["negative", "-PT1M"],
    ["lower case", "pt1m"],
    ["out of order", "PT1S1M"],
    ["time unit without T", "P1H"],
    ["date unit after T", "PT1D"],
    ["leading space", " PT1M"],
    ["trailing text", "PT1Mx"],
    ["comma decimal", "PT0,5S"],
    ["dangling decimal point", "PT1.S"],
    ["missing number", "PTM"],
  ])("%s (%j) → undefined", (_case, text) => {
    expect(durationSeconds(text)).toBeUndefined();
  });
});
