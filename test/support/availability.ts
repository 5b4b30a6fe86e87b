import type { Sample } from "../../src/telemetry/sample.js";

/** Samples of one machine at `ts`: metric name → value, with the machine's point ids. */
export function samplesAt(machineId: number, points: ReadonlyMap<string, number>, ts: number, values: Record<string, number>): Sample[] {
  return Object.entries(values).map(([metric, value]) => {
    const dataPointId = points.get(metric);
    if (dataPointId === undefined) throw new Error(`no point ${metric}`);
    return { dataPointId, machineId, metric, ts, value, quality: "good" as const };
  });
}

/** Seconds of [from, t) inside the given [start, end) stretches (epoch ms). */
export function secondsWithin(stretches: readonly [number, number][], t: number): number {
  return stretches.reduce((total, [a, b]) => total + Math.max(0, Math.min(b, t) - a) / 1000, 0) ;
}
