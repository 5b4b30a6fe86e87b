import type { RuleParams } from "./rule.schema.js";

/**
 * The memory of one rule between evaluations: plain JSON data (numbers, strings, arrays, null), so
 * it can be persisted and restored as is. `since` and every time are epoch milliseconds.
 */

export const phases = ["NORMAL", "PENDING", "FIRING", "RECOVERING"] as const;
export type Phase = (typeof phases)[number];

/**
 * What the last evaluation found: `on` the condition holds; `off` it is false by the hysteresis
 * margin (recovered); `band` it is false but inside the hysteresis margin; `unknown` it cannot be
 * judged yet (baseline not learned, no full rate window, no fit), which changes no phase.
 */
export type Level = "on" | "off" | "band" | "unknown";

/**
 * Samples in time order, kept in two parallel arrays. Entries before `head` are dropped: pruning
 * only moves `head`, and the arrays are compacted in place once the dead part is the larger half,
 * so a sample costs no array copy.
 */
export interface TimeWindow {
  ts: number[];
  values: number[];
  head: number;
}

/** What every condition rule (threshold, deviation, rate, trend) remembers. */
interface ConditionMemory {
  phase: Phase;
  /** When the current phase was entered; 0 before the first change. */
  since: number;
  /** When the rule last raised, while it is FIRING or RECOVERING. */
  raisedAt: number | null;
  /** The level the last sample produced; a tick reuses it to finish confirmations. */
  level: Level;
  /** The newest sample time accepted: older samples are ignored so they cannot corrupt windows. */
  lastTs: number | null;
  lastValue: number | null;
}

export interface ThresholdState extends ConditionMemory {
  kind: "threshold";
}

export interface DeviationState extends ConditionMemory {
  kind: "deviation";
  /** Samples taken while NORMAL within the baseline window. */
  history: TimeWindow;
  /** null until `minSamples` samples are learned (or the learned value is 0). */
  baseline: number | null;
  /** Samples added or pruned since the baseline was last computed (see evaluate.ts: recompute cadence). */
  changes: number;
}

export interface RateState extends ConditionMemory {
  kind: "rate";
  /** The window plus the one reading at or before its start, which the rate is measured against. */
  history: TimeWindow;
  /** The last rate measured, per minute. */
  ratePerMinute: number | null;
}

/** A least-squares line through (ts, value): value = meanValue + slopePerMs · (ts − meanTs). */
export interface TrendFit {
  meanTs: number;
  meanValue: number;
  slopePerMs: number;
  r2: number;
  samples: number;
}

export interface TrendState extends ConditionMemory {
  kind: "trend";
  history: TimeWindow;
  /** null until `minSamples` samples are in the window. */
  fit: TrendFit | null;
  changes: number;
}

export interface StaleState {
  kind: "stale";
  /** Only NORMAL and FIRING: `afterSeconds` is the confirmation. */
  phase: Phase;
  since: number;
  /** The newest usable reading's time. */
  lastReadingTs: number | null;
  /** The first tick's time, from which silence counts while no reading has ever arrived. */
  watchingSince: number | null;
}

export interface CounterState {
  kind: "counter";
  /** Always NORMAL: a counter emits batch_completed events, it never fires. */
  phase: Phase;
  since: number;
  lastTs: number | null;
  /** The counter value parts are counted from; null before the first sample. */
  reference: number | null;
  /** Parts counted since the last batch boundary. */
  partsInBatch: number;
  /** Batches completed since the state began. */
  batches: number;
  /** Parts counted since the state began. */
  totalParts: number;
  /** Counter resets seen. */
  resets: number;
}

export type ConditionState = ThresholdState | DeviationState | RateState | TrendState;
export type RuleState = ConditionState | StaleState | CounterState;

const emptyWindow = (): TimeWindow => ({ ts: [], values: [], head: 0 });

const conditionMemory = (): ConditionMemory => ({
  phase: "NORMAL",
  since: 0,
  raisedAt: null,
  level: "unknown",
  lastTs: null,
  lastValue: null,
});

export function initialState(params: RuleParams): RuleState {
  switch (params.kind) {
    case "threshold":
      return { kind: "threshold", ...conditionMemory() };
    case "deviation":
      return { kind: "deviation", ...conditionMemory(), history: emptyWindow(), baseline: null, changes: 0 };
    case "rate":
      return { kind: "rate", ...conditionMemory(), history: emptyWindow(), ratePerMinute: null };
    case "trend":
      return { kind: "trend", ...conditionMemory(), history: emptyWindow(), fit: null, changes: 0 };
    case "stale":
      return { kind: "stale", phase: "NORMAL", since: 0, lastReadingTs: null, watchingSince: null };
    case "counter":
      return { kind: "counter", phase: "NORMAL", since: 0, lastTs: null, reference: null, partsInBatch: 0, batches: 0, totalParts: 0, resets: 0 };
  }
}

// ---- time windows -------------------------------------------------------------------------------

/** Dead entries tolerated before compacting; below this compaction would cost more than it frees. */
const COMPACT_AFTER = 1024;

export const windowSize = (w: TimeWindow): number => w.ts.length - w.head;

/** Appends a sample; the caller keeps samples in time order. */
export function windowPush(w: TimeWindow, ts: number, value: number): void {
  w.ts.push(ts);
  w.values.push(value);
}

/**
 * Drops samples older than `cutoff`. With `keepReference` it keeps the newest sample at or before
 * `cutoff` instead (the rate rule measures against it). Returns how many were dropped.
 */
export function windowDropBefore(w: TimeWindow, cutoff: number, keepReference = false): number {
  const start = w.head;
  const keep = keepReference ? 1 : 0;
  for (let t = w.ts[w.head + keep]; t !== undefined && (keepReference ? t <= cutoff : t < cutoff); t = w.ts[w.head + keep]) w.head++;
  const dropped = w.head - start;
  if (w.head >= COMPACT_AFTER && w.head * 2 >= w.ts.length) {
    w.ts.copyWithin(0, w.head);
    w.values.copyWithin(0, w.head);
    w.ts.length -= w.head;
    w.values.length -= w.head;
    w.head = 0;
  }
  return dropped;
}
