import { describe, expect, it } from "vitest";
import type { LatestValue } from "../../src/telemetry/latest-values.js";
import { deriveMachineState } from "../../src/telemetry/machine-state.js";

const NOW = Date.parse("2024-05-01T12:00:00.000Z");
const OFFLINE_AFTER_MS = 60_000;

/** metric → [value, age in ms] */
function latest(entries: Record<string, [value: number, ageMs: number]>): Map<string, LatestValue> {
  return new Map(
    Object.entries(entries).map(([metric, [value, ageMs]]) => [metric, { value, ts: new Date(NOW - ageMs), quality: "good" as const }]),
  );
}

describe("deriveMachineState", () => {
  it.each([
    ["no readings", {}, "offline"],
    ["one stale reading", { temperature: [70, 60_001] }, "offline"],
    ["every reading stale, speed included", { temperature: [70, 120_000], speed: [0, 90_000] }, "offline"],
    ["stale running speed", { speed: [1200, 3_600_000] }, "offline"],
    ["fresh speed 0", { speed: [0, 1_000] }, "idle"],
    ["fresh negative speed", { speed: [-1, 1_000] }, "idle"],
    ["fresh speed 0 beside other fresh metrics", { speed: [0, 1_000], temperature: [70, 500] }, "idle"],
    ["fresh speed > 0", { speed: [1200, 1_000] }, "running"],
    ["fresh small speed > 0", { speed: [0.01, 1_000] }, "running"],
    ["fresh readings without a speed metric", { temperature: [70, 1_000], pressure: [3, 2_000] }, "running"],
    ["stale speed 0 but another metric fresh", { speed: [0, 600_000], temperature: [70, 1_000] }, "running"],
    ["reading exactly offlineAfterMs old is still fresh", { temperature: [70, 60_000] }, "running"],
    ["speed 0 exactly offlineAfterMs old is still fresh", { speed: [0, 60_000] }, "idle"],
    ["speed 0 one ms too old, other metric fresh", { speed: [0, 60_001], temperature: [70, 0] }, "running"],
    ["a metric named like speed is not speed", { spindle_speed: [0, 1_000] }, "running"],
  ] as const)("%s → %s", (_case, entries, expected) => {
    expect(deriveMachineState(latest(entries as Record<string, [number, number]>), NOW, OFFLINE_AFTER_MS)).toBe(expected);
  });

  it("uses the newest reading of all metrics to decide offline", () => {
    const readings = latest({ a: [1, 3_600_000], b: [1, 59_000], c: [1, 7_200_000] });
    expect(deriveMachineState(readings, NOW, OFFLINE_AFTER_MS)).toBe("running");
    expect(deriveMachineState(readings, NOW + 2_000, OFFLINE_AFTER_MS)).toBe("offline");
  });

  it("follows the offlineAfterMs given", () => {
    const readings = latest({ speed: [500, 10_000] });
    expect(deriveMachineState(readings, NOW, 10_000)).toBe("running");
    expect(deriveMachineState(readings, NOW, 9_999)).toBe("offline");
  });

  it("ignores the quality of the readings", () => {
    const readings = new Map<string, LatestValue>([["speed", { value: 0, ts: new Date(NOW), quality: "bad" }]]);
    expect(deriveMachineState(readings, NOW, OFFLINE_AFTER_MS)).toBe("idle");
  });
});
