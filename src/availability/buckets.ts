/** Rollup grains in seconds: production counts keep minutes; states and counts keep hours and days. */
export const MINUTE = 60;
export const HOUR = 3_600;
export const DAY = 86_400;

const floorTo = (t: number, grain: number) => Math.floor(t / (grain * 1000)) * grain * 1000;
const ceilTo = (t: number, grain: number) => Math.ceil(t / (grain * 1000)) * grain * 1000;

/** The buckets (UTC-aligned starts, epoch ms) that [from, to) touches, with the seconds it spends in each. */
export function splitByGrain(from: number, to: number, grain: number): { bucket: number; seconds: number }[] {
  const out: { bucket: number; seconds: number }[] = [];
  for (let bucket = floorTo(from, grain); bucket < to; bucket += grain * 1000) {
    const seconds = (Math.min(to, bucket + grain * 1000) - Math.max(from, bucket)) / 1000;
    if (seconds > 0) out.push({ bucket, seconds });
  }
  return out;
}

export const bucketStart = floorTo;

/** A range of whole buckets of one grain: buckets starting in [from, to). */
export interface RolledRange {
  grain: number;
  from: number;
  to: number;
}

/**
 * How a KPI query over [from, to) reads: whole days from day rollups, whole hours around them from
 * hour rollups, and the minutes at either edge from the raw intervals (states) or minute buckets
 * (counts). `rolled` is the span the hour and day rollups cover; open intervals are added over it.
 */
export function queryPlan(from: number, to: number): { edges: [number, number][]; rolled: RolledRange[]; rolledSpan?: [number, number] } {
  const hourFrom = ceilTo(from, HOUR);
  const hourTo = floorTo(to, HOUR);
  if (hourFrom >= hourTo) return { edges: to > from ? [[from, to]] : [], rolled: [] };
  const edges = ([[from, hourFrom], [hourTo, to]] as [number, number][]).filter(([a, b]) => b > a);
  const dayFrom = ceilTo(hourFrom, DAY);
  const dayTo = floorTo(hourTo, DAY);
  const rolled: RolledRange[] =
    dayFrom >= dayTo
      ? [{ grain: HOUR, from: hourFrom, to: hourTo }]
      : [
          { grain: HOUR, from: hourFrom, to: dayFrom },
          { grain: DAY, from: dayFrom, to: dayTo },
          { grain: HOUR, from: dayTo, to: hourTo },
        ];
  return { edges, rolled: rolled.filter((r) => r.to > r.from), rolledSpan: [hourFrom, hourTo] };
}
