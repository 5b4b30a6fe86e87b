/** A stretch of planned production time, epoch ms. */
export interface TimeWindow {
  from: number;
  to: number;
}

/**
 * Walks planned production windows from `cursor`, consuming `seconds` of production time.
 * Returns when the work would finish and the stretches it occupies; undefined finish when the
 * windows run out first.
 */
export function consume(windows: readonly TimeWindow[], cursor: number, seconds: number): { finish?: number; segments: TimeWindow[]; end: number } {
  if (seconds <= 0) return { finish: cursor, segments: [], end: cursor };
  let need = Math.round(seconds * 1000);
  const segments: TimeWindow[] = [];
  let end = cursor;
  for (const w of windows) {
    if (w.to <= cursor) continue;
    const start = Math.max(w.from, cursor);
    const take = Math.min(need, w.to - start);
    segments.push({ from: start, to: start + take });
    need -= take;
    end = start + take;
    if (need <= 0) return { finish: end, segments, end };
  }
  return { segments, end };
}

/** Milliseconds of the windows inside [from, to). */
export function overlapMs(windows: readonly TimeWindow[], from: number, to: number): number {
  return windows.reduce((total, w) => total + Math.max(0, Math.min(w.to, to) - Math.max(w.from, from)), 0);
}

/** The time every one of several sorted, non-overlapping window lists covers. */
export function intersectWindows(lists: readonly (readonly TimeWindow[])[]): TimeWindow[] {
  return lists.slice(1).reduce<TimeWindow[]>((common, list) => {
    const out: TimeWindow[] = [];
    let i = 0;
    let j = 0;
    while (i < common.length && j < list.length) {
      const from = Math.max(common[i]!.from, list[j]!.from);
      const to = Math.min(common[i]!.to, list[j]!.to);
      if (to > from) out.push({ from, to });
      if (common[i]!.to < list[j]!.to) i++;
      else j++;
    }
    return out;
  }, [...(lists[0] ?? [])]);
}
