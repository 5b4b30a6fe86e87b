import { describe, expect, it } from "vitest";
import { ruleOf, run, sample, series, tick, timeline } from "./rule-harness.js";

const above80 = { kind: "threshold", condition: "above", limit: 80 } as const;

describe("threshold rule", () => {
  it.each([
    ["above: crossing and back", above80, [70, 81, 79, 70], ["raised@10", "cleared@20"]],
    ["above: the limit itself is not above", above80, [70, 80, 80], []],
    ["below", { kind: "threshold", condition: "below", limit: 10 }, [20, 9, 15], ["raised@10", "cleared@20"]],
    ["below: the limit itself is not below", { kind: "threshold", condition: "below", limit: 10 }, [10, 10], []],
    ["outside, both sides", { kind: "threshold", condition: "outside", low: 60, high: 80 }, [70, 85, 70, 55, 70], ["raised@10", "cleared@20", "raised@30", "cleared@40"]],
    ["outside: one side straight to the other stays firing", { kind: "threshold", condition: "outside", low: 60, high: 80 }, [85, 55, 70], ["raised@0", "cleared@20"]],
    ["forSeconds: held long enough", { ...above80, forSeconds: 30 }, [70, 85, 85, 85, 85], ["raised@40"]],
    ["forSeconds: goes away first, no event", { ...above80, forSeconds: 30 }, [70, 85, 85, 70, 85, 85], []],
    ["hysteresis: clears only below limit − hysteresis", { ...above80, hysteresis: 2 }, [85, 79, 78, 77.9], ["raised@0", "cleared@30"]],
    ["hysteresis below: clears only above limit + hysteresis", { kind: "threshold", condition: "below", limit: 10, hysteresis: 1 }, [9, 10.5, 11, 11.1], ["raised@0", "cleared@30"]],
    ["clearForSeconds: recovery confirmed", { ...above80, clearForSeconds: 20 }, [85, 70, 70, 70], ["raised@0", "cleared@30"]],
    ["clearForSeconds: relapse keeps firing silently", { ...above80, clearForSeconds: 20 }, [85, 70, 85, 70, 70], ["raised@0"]],
  ] as const)("%s", (_case, params, values, expected) => {
    expect(timeline(run(ruleOf(params), series(0, 10, values)).transitions)).toEqual(expected);
  });

  it("walks NORMAL → PENDING → FIRING → RECOVERING → NORMAL", () => {
    const rule = ruleOf({ ...above80, hysteresis: 2, forSeconds: 20, clearForSeconds: 20 });
    expect(run(rule, series(0, 10, [70, 85, 85, 85, 75, 75, 75])).phases).toEqual(["NORMAL", "PENDING", "PENDING", "FIRING", "RECOVERING", "RECOVERING", "NORMAL"]);
  });

  it("says what happened, with the value, the limit and the confirmation", () => {
    const rule = ruleOf({ ...above80, hysteresis: 2, forSeconds: 30 });
    const { transitions } = run(rule, [...series(0, 10, [86.2, 86.2, 86.2, 86.2]), sample(50, 75.5)]);
    expect(transitions.map((t) => t.message)).toEqual(["temperature 86.2 above 80 for 30 s", "temperature 75.5 back below 80"]);
    expect(transitions[0]).toMatchObject({ type: "raised", ruleId: 7, ruleVersion: 1, machineId: 3, dataPointId: 42, value: 86.2, detail: { limit: 80, hysteresis: 2, forSeconds: 30 } });
    expect(transitions[1]?.detail).toMatchObject({ raisedAt: transitions[0]?.at, firingSeconds: 20 });
  });

  it("names the side and the band of an 'outside' rule", () => {
    const rule = ruleOf({ kind: "threshold", condition: "outside", low: 60, high: 80 }, "pressure");
    expect(run(rule, series(0, 10, [55, 70])).transitions.map((t) => t.message)).toEqual(["pressure 55 outside 60 to 80", "pressure 70 back inside 60 to 80"]);
  });

  it("a tick completes the confirmation without a new sample", () => {
    const rule = ruleOf({ ...above80, forSeconds: 30, clearForSeconds: 60 });
    const { transitions } = run(rule, [sample(10, 85), tick(39), tick(40), sample(50, 70), tick(109), tick(110), tick(200)]);
    expect(timeline(transitions)).toEqual(["raised@40", "cleared@110"]);
    expect(transitions[0]?.value).toBe(85);
  });

  it("a tick alone never starts a confirmation", () => {
    expect(run(ruleOf({ ...above80, forSeconds: 30 }), [tick(0), tick(100)]).phases).toEqual(["NORMAL", "NORMAL"]);
  });

  describe("a flapping sensor around limit 80 (hysteresis 2, clearForSeconds 30, a sample every 5 s)", () => {
    const flapping = (low: number) => [72, ...Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 81 : low)), ...Array<number>(10).fill(70)];
    const rule = ruleOf({ ...above80, hysteresis: 2, clearForSeconds: 30 });

    it.each([
      // The last flap sample is at 200 s; recovery starts at 205 s (the first 70) or already at 200 s (77 < 78).
      ["inside the hysteresis band (81, 79, ...)", 79, 235],
      ["past the hysteresis margin (81, 77, ...)", 77, 230],
    ])("%s raises once and clears once", (_case, low, clearedAt) => {
      const { transitions } = run(rule, series(0, 5, flapping(low)));
      expect(transitions.filter((t) => t.type === "raised")).toHaveLength(1);
      expect(transitions.filter((t) => t.type === "cleared")).toHaveLength(1);
      expect(timeline(transitions)).toEqual(["raised@5", `cleared@${clearedAt}`]);
    });

    it("would open a ticket storm without hysteresis and clear confirmation", () => {
      const bare = ruleOf(above80);
      expect(run(bare, series(0, 5, flapping(79))).transitions.filter((t) => t.type === "raised")).toHaveLength(20);
    });
  });

  describe("bad samples", () => {
    it("ignores bad quality: it neither raises nor clears", () => {
      const rule = ruleOf(above80);
      expect(run(rule, [sample(0, 95, "bad")]).transitions).toEqual([]);
      const firing = run(rule, [sample(0, 95), sample(10, 20, "bad"), sample(20, 90)]);
      expect(timeline(firing.transitions)).toEqual(["raised@0"]);
      expect(firing.phases).toEqual(["FIRING", "FIRING", "FIRING"]);
    });

    it("uses uncertain quality like good", () => {
      expect(timeline(run(ruleOf(above80), [sample(0, 95, "uncertain")]).transitions)).toEqual(["raised@0"]);
    });

    it("ignores a sample older than the newest one seen", () => {
      const rule = ruleOf({ ...above80, forSeconds: 30 });
      const late = run(rule, [sample(20, 70), sample(10, 95)]);
      expect(late.transitions).toEqual([]);
      expect(late.state).toMatchObject({ phase: "NORMAL", lastTs: Date.parse("2026-11-01T00:00:20.000Z"), lastValue: 70 });
      // A late low sample does not interrupt a confirmation in progress either.
      expect(timeline(run(rule, [sample(10, 85), sample(30, 85), sample(20, 50), sample(40, 85)]).transitions)).toEqual(["raised@40"]);
    });
  });
});
