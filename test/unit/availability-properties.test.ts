import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { machineStates } from "../../schema/db/availability.js";
import { computeKpis, type StateSeconds } from "../../src/availability/kpi.js";
import { StateEngine, type StateTransition } from "../../src/availability/state-engine.js";
import { resolveState } from "../../src/availability/state-resolver.js";

const T0 = Date.parse("2026-03-10T00:00:00Z");
const HOUR = 3_600_000;

/** Planned stops every other hour: the calendar's boundaries are on the hour. */
const calendar = (t: number) => (Math.floor((t - T0) / HOUR) % 2 === 1 ? { reason: "break", until: T0 + Math.ceil((t - T0 + 1) / HOUR) * HOUR } : { until: T0 + Math.ceil((t - T0 + 1) / HOUR) * HOUR });

const input = fc.oneof(
  fc.record({ kind: fc.constant("speed" as const), dt: fc.integer({ min: 0, max: 40 * 60_000 }), value: fc.constantFrom(0, 50) }),
  fc.record({ kind: fc.constant("fault" as const), dt: fc.integer({ min: 0, max: 40 * 60_000 }), value: fc.constantFrom(0, 1) }),
  fc.record({ kind: fc.constant("task" as const), dt: fc.integer({ min: 0, max: 40 * 60_000 }), value: fc.boolean() }),
  fc.record({ kind: fc.constant("online" as const), dt: fc.integer({ min: 0, max: 40 * 60_000 }), value: fc.boolean() }),
  fc.record({ kind: fc.constant("tick" as const), dt: fc.integer({ min: 0, max: 3 * HOUR }) }),
);

describe("state intervals (property)", () => {
  it("transitions move forward and, applied as the store does, give intervals that tile time, each a real change", () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 80 }), (inputs) => {
        const engine = new StateEngine(10 * 60_000);
        const points = new Map([[1, "speed"], [2, "fault"]]);
        engine.load([{ id: 7, points, calendar, config: { sources: [{ point: "fault", map: { "1": { state: "down", reason: "jam" } } }, { point: "speed", runningAbove: 0 }], counters: {}, products: {} } }]);
        const transitions: StateTransition[] = [...engine.tick(T0)];
        let t = T0;
        for (const i of inputs) {
          t += i.dt;
          if (i.kind === "tick") transitions.push(...engine.tick(t));
          else if (i.kind === "task") transitions.push(...engine.task(7, i.value, t));
          else if (i.kind === "online") transitions.push(...engine.connectivity(7, i.value, t, "NDEATH"));
          else transitions.push(...engine.samples([{ dataPointId: i.kind === "speed" ? 1 : 2, machineId: 7, metric: i.kind, ts: t, value: i.value, quality: "good" }]).transitions);
        }
        // As the store applies them: a change at the open interval's own start replaces its state,
        // or reopens the interval before it when that had the same state.
        const intervals: (StateTransition & { end?: number })[] = [];
        for (const t of transitions) {
          const open = intervals.at(-1);
          expect(open === undefined || t.at >= open.at).toBe(true);
          if (open && t.at === open.at) {
            const before = intervals.at(-2);
            if (before && before.state === t.state && before.reason === t.reason) {
              intervals.pop();
              before.end = undefined;
            } else intervals[intervals.length - 1] = t;
          } else {
            if (open) open.end = t.at;
            intervals.push({ ...t });
          }
        }
        expect(intervals[0]!.at).toBe(T0);
        for (let k = 1; k < intervals.length; k++) {
          const [a, b] = [intervals[k - 1]!, intervals[k]!];
          expect(a.end).toBe(b.at);
          expect(b.at).toBeGreaterThan(a.at);
          expect(a.state !== b.state || (a.reason !== b.reason && a.state !== "offline")).toBe(true);
          // A planned stop holds exactly while the calendar plans one and the machine is not running.
          if (b.state === "planned_stop") expect(calendar(b.at).reason).toBe("break");
        }
        expect(intervals.at(-1)!.end).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it("resolves by precedence: calendar (unless running), task, offline, signal", () => {
    const running = { state: "running" as const, reason: "", source: "speed" };
    const idle = { state: "idle" as const, reason: "", source: "speed" };
    expect(resolveState({ plannedStop: "break", task: true, offline: "no_data", signal: idle }).state).toBe("planned_stop");
    expect(resolveState({ plannedStop: "break", task: false, signal: running }).state).toBe("running");
    expect(resolveState({ plannedStop: "break", task: true, signal: running }).state).toBe("maintenance");
    expect(resolveState({ task: true, offline: "no_data", signal: running }).state).toBe("maintenance");
    expect(resolveState({ task: false, offline: "NDEATH", signal: running })).toMatchObject({ state: "offline", reason: "NDEATH" });
    expect(resolveState({ task: false, signal: idle }).state).toBe("idle");
  });
});

const stateSeconds = fc.array(
  fc.record({ state: fc.constantFrom(...machineStates), reason: fc.constantFrom("", "break", "no_shift", "holiday", "jam"), seconds: fc.integer({ min: 0, max: 86_400 }) }),
  { maxLength: 20 },
);

describe("KPIs (property)", () => {
  it("0 ≤ A, P, Q ≤ 1 and OEE = A × P × Q when the machine cannot beat its ideal cycle", () => {
    fc.assert(
      fc.property(stateSeconds, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.1, max: 60, noNaN: true }), (states: StateSeconds[], speed, yieldShare, ideal) => {
        const apt = states.filter((s) => s.state === "running").reduce((t, s) => t + s.seconds, 0);
        const produced = Math.floor((apt / ideal) * speed);
        const good = Math.floor(produced * yieldShare);
        const k = computeKpis(states, { produced, good, scrap: produced - good, idealSeconds: produced * ideal });
        for (const value of [k.availability, k.effectiveness, k.qualityRatio, k.oee]) {
          if (value === null) continue;
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(1 + 1e-12);
        }
        if (k.oee !== null) expect(k.oee).toBeCloseTo(k.availability! * k.effectiveness! * k.qualityRatio!, 12);
        expect(k.plannedBusyTime).toBe(k.actualProductionTime + k.actualSetupTime + k.actualDelayTime + k.actualDownTime);
        if (k.plannedBusyTime === 0) expect(k.availability).toBeNull();
        if (produced === 0) expect(k.qualityRatio).toBeNull();
      }),
      { numRuns: 500 },
    );
  });
});
