import { describe, expect, it } from "vitest";
import { at, ruleOf, run, sample, tick, timeline } from "./rule-harness.js";

const rule = ruleOf({ kind: "stale", afterSeconds: 60 });

describe("stale rule", () => {
  it.each([
    ["raises on the tick that reaches afterSeconds, once", [sample(0, 1), tick(59), tick(60), tick(61), tick(300)], ["raised@60"]],
    ["clears on the next sample", [sample(0, 1), tick(60), sample(130, 1), tick(131)], ["raised@60", "cleared@130"]],
    ["a sample in time keeps it quiet", [sample(0, 1), tick(50), sample(55, 1), tick(100), tick(114)], []],
    ["a long gap between samples without a tick raises nothing", [sample(0, 1), sample(500, 1)], []],
    ["no reading ever: counts from the first tick", [tick(0), tick(59), tick(60)], ["raised@60"]],
    ["a bad-quality reading is no reading", [sample(0, 1), sample(30, 1, "bad"), tick(60)], ["raised@60"]],
    ["an uncertain reading is a reading", [sample(0, 1), sample(30, 1, "uncertain"), tick(60)], []],
    ["a bad-quality reading does not clear", [sample(0, 1), tick(60), sample(70, 1, "bad"), sample(80, 1)], ["raised@60", "cleared@80"]],
    ["a late sample does not clear", [sample(0, 1), tick(60), sample(-10, 1), sample(0, 1), tick(61)], ["raised@60"]],
    ["raises again after a new silence", [sample(0, 1), tick(60), sample(70, 1), tick(129), tick(130)], ["raised@60", "cleared@70", "raised@130"]],
  ])("%s", (_case, steps, expected) => {
    expect(timeline(run(rule, steps).transitions)).toEqual(expected);
  });

  it("says how long it has been silent", () => {
    const { transitions } = run(rule, [sample(0, 4.5), tick(60), sample(130, 5)]);
    expect(transitions[0]).toMatchObject({ type: "raised", message: "no reading for 60 s", detail: { afterSeconds: 60, lastReadingAt: at(0), silentSeconds: 60 } });
    expect(transitions[0]).not.toHaveProperty("value");
    expect(transitions[1]).toMatchObject({ type: "cleared", value: 5, message: "readings resumed after 2 min", detail: { silentSeconds: 130 } });
  });
});
