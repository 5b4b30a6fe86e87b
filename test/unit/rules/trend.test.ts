import { describe, expect, it } from "vitest";
import { at, ruleOf, run, sample, series, tick, timeline } from "./rule-harness.js";

const HOUR = 3600;
const DAY = 86_400;
const wear = { kind: "trend", limit: 7.1, direction: "rising", windowSeconds: 7 * DAY, horizonSeconds: 30 * DAY } as const;
/** Hourly for 7 days: 2 + 0.25 per day, so 7.1 is reached after (7.1 − 2) / 0.25 = 20.4 days. */
const line = (perDay: number, noise = 0) => series(0, HOUR, Array.from({ length: 7 * 24 + 1 }, (_, h) => 2 + (perDay * h) / 24 + (h % 2 === 0 ? noise : -noise)));
/** T0 (2026-11-01T00:00Z) + 20.4 d = 2026-11-21 09:36. */
const PREDICTED = "2026-11-21T09:36:00.000Z";

describe("trend rule (remaining useful life)", () => {
  it("predicts the crossing date by a least-squares line and fires inside the horizon", () => {
    const { transitions } = run(ruleOf(wear, "vibration"), line(0.25));
    // Fires as soon as minSamples (20) hourly samples give a fit: at 19 h, 19.6 days ahead of the crossing.
    expect(timeline(transitions)).toEqual([`raised@${19 * HOUR}`]);
    expect(transitions[0]?.message).toBe("vibration predicted to reach 7.1 on 2026-11-21 (in 20 d)");
    expect(transitions[0]?.detail).toMatchObject({ limit: 7.1, direction: "rising", predictedAt: PREDICTED, samples: 20 });
    expect(transitions[0]?.detail["slopePerDay"]).toBeCloseTo(0.25, 9);
    expect(Date.parse(PREDICTED)).toBe(at(20.4 * DAY));
  });

  it("fires on the tick that brings the predicted crossing inside the horizon", () => {
    const rule = ruleOf({ ...wear, horizonSeconds: 10 * DAY }, "vibration");
    // The data ends after 7 days; the crossing (20.4 d) enters a 10-day horizon at 10.4 d.
    const { transitions } = run(rule, [...line(0.25), tick(10.3 * DAY), tick(10.4 * DAY)]);
    expect(timeline(transitions)).toEqual([`raised@${10.4 * DAY}`]);
    expect(transitions[0]?.message).toBe("vibration predicted to reach 7.1 on 2026-11-21 (in 10 d)");
    expect(transitions[0]?.detail["predictedAt"]).toBe(PREDICTED);
  });

  it.each([
    ["the crossing is beyond the horizon", { ...wear, horizonSeconds: 10 * DAY }, line(0.25)],
    ["the slope points away from the limit", { ...wear, direction: "falling" }, line(0.25)],
    ["the values fall, a rising limit", wear, line(-0.25)],
    ["the values are flat", wear, line(0)],
    ["fewer samples than minSamples", { ...wear, minSamples: 200 }, line(0.25)],
    ["the fit is poorer than minR2", { ...wear, minR2: 0.5 }, line(0.25, 3)],
  ] as const)("does not fire when %s", (_case, params, steps) => {
    expect(run(ruleOf(params), steps).transitions).toEqual([]);
  });

  it("fires on a noisy fit when no minR2 is asked for", () => {
    expect(run(ruleOf(wear), line(0.25, 3)).transitions.map((t) => t.type)).toContain("raised");
  });

  it("predicts falling limits too", () => {
    const { transitions } = run(ruleOf({ ...wear, limit: 0, direction: "falling" }, "pad thickness"), line(-0.25));
    // 2 − 0.25 per day reaches 0 after 8 days: 2026-11-09.
    expect(transitions[0]?.message).toMatch(/^pad thickness predicted to reach 0 on 2026-11-09 \(in \d+ d\)$/);
    expect(transitions[0]?.detail["predictedAt"]).toBe("2026-11-09T00:00:00.000Z");
  });

  it("clears, after its confirmation, once the prediction leaves the horizon", () => {
    // One sample a minute, +1 a minute for 40 min, then flat at 40: the 1 h fit flattens and the crossing of 100 recedes.
    const rule = ruleOf({ kind: "trend", limit: 100, direction: "rising", windowSeconds: HOUR, horizonSeconds: HOUR, minSamples: 5, clearForSeconds: 300 });
    const rising = Array.from({ length: 41 }, (_, m) => m);
    const { transitions, phases } = run(rule, series(0, 60, [...rising, ...Array<number>(120).fill(40)]));
    // At 40 min the line predicts 100 at 100 min: exactly one hour ahead.
    expect(timeline(transitions)[0]).toBe("raised@2400");
    expect(transitions.map((t) => t.type)).toEqual(["raised", "cleared"]);
    expect(phases.at(-1)).toBe("NORMAL");
    expect(transitions[1]?.message).toBe("temperature no longer predicted to reach 100 within 1 h");
    const recovering = phases.indexOf("RECOVERING");
    expect((transitions[1]!.at - at(recovering * 60)) / 1000).toBe(300);
  });

  it("ignores a late sample instead of bending the line", () => {
    const steps = line(0.25);
    const late = run(ruleOf(wear), [...steps.slice(0, 30), sample(HOUR / 2, 500), ...steps.slice(30)]);
    expect(late.transitions[0]?.detail["predictedAt"]).toBe(PREDICTED);
    expect(late.state).toEqual(run(ruleOf(wear), steps).state);
  });
});
