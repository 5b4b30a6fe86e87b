import type { Quality } from "../telemetry/sample.js";
import type { CounterParams, DeviationParams, RateParams, RuleParams, StaleParams, ThresholdParams, TrendParams } from "./rule.schema.js";
import {
  initialState,
  windowDropBefore,
  windowPush,
  windowSize,
  type ConditionState,
  type CounterState,
  type DeviationState,
  type Level,
  type Phase,
  type RateState,
  type RuleState,
  type StaleState,
  type ThresholdState,
  type TimeWindow,
  type TrendFit,
  type TrendState,
} from "./rule-state.js";

/**
 * The rule layer's one function: `evaluate(rule, state, input, now)` judges one sample or one tick
 * and returns the state to keep plus, at most, one transition. No I/O, no clock, no randomness:
 * the same inputs give the same outputs.
 *
 * Ownership: for speed, the window buffers of `state` are updated in place (a sample costs no
 * array copy). The caller hands the state over and keeps only the returned one; `RuleEngine` does.
 *
 * Decisions:
 * - Timing (forSeconds, clearForSeconds, stale) uses `now`; windows use the sample's `ts`. The
 *   engine passes a sample's own `ts` as `now`, so a replayed backlog confirms in its own time.
 * - A sample with `ts` older than the newest one accepted is ignored by every kind, so late
 *   samples can neither reorder a window nor look like a counter reset. Equal `ts` is accepted.
 * - "bad" quality samples (and non-finite values) are ignored by every kind. For `stale` they do
 *   NOT count as a reading: a sensor that only reports "bad" raises "no reading", so a failed
 *   sensor cannot hide from every rule. "uncertain" samples are used like "good" ones.
 * - Condition rules fire on strict excess (above: value > limit; deviation: more than `percent`;
 *   rate: more than `maxPerMinute`) and recover only past the hysteresis margin.
 */

import type { Severity } from "../../schema/db/events.js";
export type { Severity };

export interface RuleDefinition {
  readonly id: number;
  readonly version: number;
  readonly machineId: number;
  readonly dataPointId: number;
  readonly severity: Severity;
  readonly params: RuleParams;
  /** Names the metric in messages ("temperature 86.2 above 80"); the engine fills it from samples. */
  readonly metric?: string;
}

export type RuleInput =
  | { readonly type: "sample"; readonly ts: number; readonly value: number; readonly quality: Quality }
  | { readonly type: "tick" };

export type TransitionType = "raised" | "cleared" | "batch_completed";

export interface RuleTransition {
  readonly type: TransitionType;
  readonly ruleId: number;
  readonly ruleVersion: number;
  readonly machineId: number;
  readonly dataPointId: number;
  /** Epoch ms: the `now` of the evaluation that made the transition. */
  readonly at: number;
  readonly value?: number;
  /** Human readable, e.g. "temperature 86.2 above 80 for 30 s". */
  readonly message: string;
  readonly detail: Record<string, unknown>;
}

export interface Evaluation {
  state: RuleState;
  transition?: RuleTransition;
}

type Sample = Extract<RuleInput, { type: "sample" }>;
interface Description {
  message: string;
  detail: Record<string, unknown>;
}

export function evaluate(rule: RuleDefinition, state: RuleState, input: RuleInput, now: number): Evaluation {
  const p = rule.params;
  // A state of another kind (a rule whose kind changed without a new version) starts over.
  const s = state.kind === p.kind ? state : initialState(p);
  switch (p.kind) {
    case "threshold":
      return evaluateCondition(rule, p, s as ThresholdState, input, now, threshold);
    case "deviation":
      return evaluateCondition(rule, p, s as DeviationState, input, now, deviation);
    case "rate":
      return evaluateCondition(rule, p, s as RateState, input, now, rate);
    case "trend":
      return evaluateCondition(rule, p, s as TrendState, input, now, trend);
    case "stale":
      return evaluateStale(rule, p, s as StaleState, input, now);
    case "counter":
      return evaluateCounter(rule, p, s as CounterState, input, now);
  }
}

/**
 * Loads history into a fresh or running state without transitions, so deviation baselines, rate
 * windows and trend fits start learned after a restart; stale learns the last reading time and
 * counter its reference value. History cannot tell which samples were abnormal, so a deviation
 * baseline learns all of it.
 */
export function seedState(rule: RuleDefinition, state: RuleState, history: readonly { ts: number; value: number }[]): RuleState {
  const p = rule.params;
  const s = state.kind === p.kind ? state : initialState(p);
  const samples = history.filter((h) => Number.isFinite(h.ts) && Number.isFinite(h.value)).sort((a, b) => a.ts - b.ts);
  const newest = samples[samples.length - 1];
  if (newest === undefined) return s;
  switch (s.kind) {
    case "threshold":
      return s;
    case "deviation":
      s.changes += seedWindow(s, samples, (p as DeviationParams).baselineWindowSeconds * 1000, false);
      recomputeBaseline(p as DeviationParams, s);
      return s;
    case "rate":
      seedWindow(s, samples, (p as RateParams).windowSeconds * 1000, true);
      return s;
    case "trend":
      seedWindow(s, samples, (p as TrendParams).windowSeconds * 1000, false);
      recomputeFit(p as TrendParams, s);
      return s;
    case "stale":
      s.lastReadingTs = Math.max(s.lastReadingTs ?? -Infinity, newest.ts);
      return s;
    case "counter":
      if (s.lastTs === null || newest.ts >= s.lastTs) {
        s.reference = newest.value;
        s.lastTs = newest.ts;
      }
      return s;
  }
}

function seedWindow(s: ConditionState & { history: TimeWindow }, samples: readonly { ts: number; value: number }[], windowMs: number, keepReference: boolean): number {
  let added = 0;
  for (const { ts, value } of samples) {
    if (s.lastTs !== null && ts < s.lastTs) continue;
    windowPush(s.history, ts, value);
    s.lastTs = ts;
    s.lastValue = value;
    added++;
  }
  return added + (s.lastTs === null ? 0 : windowDropBefore(s.history, s.lastTs - windowMs, keepReference));
}

const usable = (sample: Sample): boolean => sample.quality !== "bad" && Number.isFinite(sample.value) && Number.isFinite(sample.ts);

// ---- condition rules: NORMAL → PENDING → FIRING → RECOVERING → NORMAL --------------------------

type ConditionParams = ThresholdParams | DeviationParams | RateParams | TrendParams;

interface ConditionKind<P extends ConditionParams, S extends ConditionState> {
  /** An accepted sample: update the kind's memory and judge the condition. */
  observe(p: P, s: S, ts: number, value: number, now: number): Level;
  /** A tick: judge the condition at `now` without a new sample. */
  levelAt(p: P, s: S, now: number): Level;
  /** After the phase step; `learn` is true when the sample found and left the rule NORMAL. */
  settle?(p: P, s: S, ts: number, value: number, learn: boolean): void;
  describe(p: P, s: S, type: "raised" | "cleared", now: number, metric: string): Description;
}

function evaluateCondition<P extends ConditionParams, S extends ConditionState>(
  rule: RuleDefinition,
  p: P,
  s: S,
  input: RuleInput,
  now: number,
  kind: ConditionKind<P, S>,
): Evaluation {
  const sample = input.type === "sample" ? input : undefined;
  if (sample !== undefined && (!usable(sample) || (s.lastTs !== null && sample.ts < s.lastTs))) return { state: s };
  const before = s.phase;
  const raisedAt = s.raisedAt;
  if (sample === undefined) {
    s.level = kind.levelAt(p, s, now);
  } else {
    s.lastTs = sample.ts;
    s.lastValue = sample.value;
    s.level = kind.observe(p, s, sample.ts, sample.value, now);
  }
  const type = step(s, now, p.forSeconds * 1000, p.clearForSeconds * 1000);
  if (sample !== undefined) kind.settle?.(p, s, sample.ts, sample.value, before === "NORMAL" && s.phase === "NORMAL");
  if (type === undefined) return { state: s };
  const { message, detail } = kind.describe(p, s, type, now, metricName(rule));
  const timing = type === "cleared" && raisedAt !== null ? { raisedAt, firingSeconds: (now - raisedAt) / 1000 } : {};
  return { state: s, transition: transition(rule, type, now, s.lastValue, message, { ...detail, ...timing }) };
}

/** Changes phase; returns undefined so a silent change reads `return enter(...)`. */
function enter(s: { phase: Phase; since: number }, phase: Phase, at: number): undefined {
  s.phase = phase;
  s.since = at;
  return undefined;
}

/**
 * The phase machine, symmetric in its two halves: leaving NORMAL needs the condition (`on`) held
 * for forSeconds in PENDING; leaving FIRING needs recovery past the margin (`off`) held for
 * clearForSeconds in RECOVERING. Losing the awaited level in PENDING falls back to NORMAL, and in
 * RECOVERING back to FIRING, both without an event: that is the flap suppression. Returns the
 * event to emit, if any.
 */
function step(s: ConditionState, now: number, forMs: number, clearForMs: number): "raised" | "cleared" | undefined {
  if (s.level === "unknown") return undefined;
  const t = Math.max(now, s.since);
  const firing = s.phase === "FIRING" || s.phase === "RECOVERING";
  const settled = s.phase === "NORMAL" || s.phase === "FIRING";
  const awaited = s.level === (firing ? "off" : "on");
  const confirmMs = firing ? clearForMs : forMs;
  if (!awaited) return settled ? undefined : enter(s, firing ? "FIRING" : "NORMAL", t);
  if (settled && confirmMs > 0) return enter(s, firing ? "RECOVERING" : "PENDING", t);
  if (!settled && t - s.since < confirmMs) return undefined;
  return firing ? clear(s, t) : raise(s, t);
}

function raise(s: ConditionState, t: number): "raised" {
  enter(s, "FIRING", t);
  s.raisedAt = t;
  return "raised";
}

function clear(s: ConditionState, t: number): "cleared" {
  enter(s, "NORMAL", t);
  s.raisedAt = null;
  return "cleared";
}

/**
 * `on` beyond [low, high]; `off` inside it by `margin` on both sides; `band` in between.
 * An open side is ±Infinity.
 */
function levelOutside(x: number, low: number, high: number, margin: number): Level {
  if (x > high || x < low) return "on";
  return x < high - margin && x > low + margin ? "off" : "band";
}

const sideLimits = (direction: string, limit: number): [low: number, high: number] =>
  direction === "either" ? [-limit, limit] : direction === "above" || direction === "rising" ? [-Infinity, limit] : [-limit, Infinity];

// threshold ------------------------------------------------------------------------------------

function thresholdBounds(p: ThresholdParams): [low: number, high: number] {
  if (p.condition === "outside") return [p.low ?? -Infinity, p.high ?? Infinity];
  const limit = p.limit ?? NaN;
  return p.condition === "above" ? [-Infinity, limit] : [limit, Infinity];
}

const threshold: ConditionKind<ThresholdParams, ThresholdState> = {
  observe: (p, _s, _ts, value) => levelOutside(value, ...thresholdBounds(p), p.hysteresis),
  levelAt: (_p, s) => s.level,
  describe(p, s, type, _now, metric) {
    const value = formatNumber(s.lastValue ?? NaN);
    const [low, high] = thresholdBounds(p).map(formatNumber);
    const detail: Record<string, unknown> =
      p.condition === "outside"
        ? { condition: p.condition, low: p.low, high: p.high, hysteresis: p.hysteresis }
        : { condition: p.condition, limit: p.limit, hysteresis: p.hysteresis };
    Object.assign(detail, { forSeconds: p.forSeconds, clearForSeconds: p.clearForSeconds });
    const where =
      type === "raised"
        ? { above: `above ${high}`, below: `below ${low}`, outside: `outside ${low} to ${high}` }
        : { above: `back below ${high}`, below: `back above ${low}`, outside: `back inside ${low} to ${high}` };
    const held = type === "raised" && p.forSeconds > 0 ? ` for ${formatDuration(p.forSeconds)}` : "";
    return { message: `${metric} ${value} ${where[p.condition]}${held}`, detail };
  },
};

// deviation ------------------------------------------------------------------------------------

/** Percent deviation from the baseline; undefined while there is none (or it is 0). */
function deviationPercent(s: DeviationState, value: number): number | undefined {
  return s.baseline === null || s.baseline === 0 ? undefined : ((value - s.baseline) / Math.abs(s.baseline)) * 100;
}

const deviation: ConditionKind<DeviationParams, DeviationState> = {
  observe(p, s, _ts, value) {
    const percent = deviationPercent(s, value);
    return percent === undefined ? "unknown" : levelOutside(percent, ...sideLimits(p.direction, p.percent), p.hysteresisPercent);
  },
  levelAt: (_p, s) => s.level,
  /**
   * The baseline learns ONLY from samples that found the rule NORMAL and left it NORMAL. Samples
   * taken while PENDING, FIRING or RECOVERING are never learned: otherwise a machine running 15 %
   * slow would become its own normal and the alarm would clear itself. While the rule is away from
   * NORMAL the baseline window is frozen (not pruned either).
   */
  settle(p, s, ts, value, learn) {
    if (!learn) return;
    windowPush(s.history, ts, value);
    s.changes += 1 + windowDropBefore(s.history, ts - p.baselineWindowSeconds * 1000);
    if (s.baseline === null || recomputeDue(s.changes, windowSize(s.history))) recomputeBaseline(p, s);
  },
  describe(p, s, type, _now, metric) {
    const value = s.lastValue ?? NaN;
    const percent = deviationPercent(s, value) ?? NaN;
    const baseline = formatNumber(s.baseline ?? NaN);
    const detail = {
      baseline: s.baseline,
      statistic: p.statistic,
      baselineWindowSeconds: p.baselineWindowSeconds,
      baselineSamples: windowSize(s.history),
      deviationPercent: percent,
      percent: p.percent,
      direction: p.direction,
    };
    const message =
      type === "raised"
        ? `${metric} ${formatPercent(Math.abs(percent))} % ${percent < 0 ? "below" : "above"} its baseline ${baseline} (${p.statistic} of ${formatDuration(p.baselineWindowSeconds)})`
        : `${metric} ${formatNumber(value)} back within ${formatPercent(p.percent)} % of its baseline ${baseline}`;
    return { message, detail };
  },
};

/**
 * Recompute cadence for the deviation baseline and the trend fit: a recompute is O(n) (quickselect
 * for the median, one pass for mean or fit), so it runs only once the window has changed (samples
 * added plus pruned) by 1/64 of its size, or when there is no value yet. That is amortised O(64) per
 * sample whatever the window size, and the value is never staler than 1/64 of the window's samples
 * (about a minute of a 1 h baseline at a steady rate). Small windows (≤ 64) recompute every sample.
 */
const RECOMPUTE_FRACTION = 64;
const recomputeDue = (changes: number, size: number): boolean => changes * RECOMPUTE_FRACTION >= size;

function recomputeBaseline(p: DeviationParams, s: DeviationState): void {
  const n = windowSize(s.history);
  s.changes = 0;
  s.baseline = n < p.minSamples || n === 0 ? null : p.statistic === "median" ? median(s.history) : mean(s.history);
}

function mean(w: TimeWindow): number {
  let sum = 0;
  for (let i = w.head; i < w.values.length; i++) sum += w.values[i]!;
  return sum / windowSize(w);
}

/** Reused between calls so a median allocates nothing once it has grown to the window size. */
let scratch = new Float64Array(1024);

function median(w: TimeWindow): number {
  const n = windowSize(w);
  if (scratch.length < n) scratch = new Float64Array(2 ** Math.ceil(Math.log2(n)));
  for (let i = 0; i < n; i++) scratch[i] = w.values[w.head + i]!;
  const k = n >> 1;
  const upper = select(scratch, n, k);
  if (n % 2 === 1) return upper;
  // After selection everything below k is ≤ the k-th value: the lower middle is their maximum.
  let lower = -Infinity;
  for (let i = 0; i < k; i++) lower = Math.max(lower, scratch[i]!);
  return (lower + upper) / 2;
}

/** Hoare quickselect with a median-of-three pivot: the k-th smallest of a[0..n), reordering a. */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const x = a[lo]!;
    const y = a[(lo + hi) >>> 1]!;
    const z = a[hi]!;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k]!;
}

// rate -----------------------------------------------------------------------------------------

const rate: ConditionKind<RateParams, RateState> = {
  /** The change per minute against the newest reading at least `windowSeconds` old; unknown until one exists. */
  observe(p, s, ts, value) {
    const windowMs = p.windowSeconds * 1000;
    windowDropBefore(s.history, ts - windowMs, true);
    windowPush(s.history, ts, value);
    const refTs = s.history.ts[s.history.head]!;
    if (refTs > ts - windowMs) {
      s.ratePerMinute = null;
      return "unknown";
    }
    s.ratePerMinute = ((value - s.history.values[s.history.head]!) / (ts - refTs)) * 60_000;
    return levelOutside(s.ratePerMinute, ...sideLimits(p.direction, p.maxPerMinute), 0);
  },
  levelAt: (_p, s) => s.level,
  describe(p, s, type, _now, metric) {
    const perMinute = s.ratePerMinute ?? NaN;
    const detail = { ratePerMinute: perMinute, maxPerMinute: p.maxPerMinute, windowSeconds: p.windowSeconds, direction: p.direction };
    const max = formatNumber(p.maxPerMinute);
    const message =
      type === "raised"
        ? `${metric} ${perMinute < 0 ? "falling" : "rising"} ${formatNumber(Math.abs(perMinute))} per min (more than ${max} per min over ${formatDuration(p.windowSeconds)})`
        : `${metric} rate of change back within ${max} per min`;
    return { message, detail };
  },
};

// trend ----------------------------------------------------------------------------------------

function recomputeFit(p: TrendParams, s: TrendState): void {
  s.changes = 0;
  s.fit = windowSize(s.history) < p.minSamples ? null : fitLine(s.history);
}

/** Ordinary least squares over the window, centred on the means for numerical stability. */
function fitLine(w: TimeWindow): TrendFit | null {
  const n = windowSize(w);
  let sumTs = 0;
  let sumValue = 0;
  for (let i = w.head; i < w.ts.length; i++) {
    sumTs += w.ts[i]!;
    sumValue += w.values[i]!;
  }
  const meanTs = sumTs / n;
  const meanValue = sumValue / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = w.head; i < w.ts.length; i++) {
    const dx = w.ts[i]! - meanTs;
    const dy = w.values[i]! - meanValue;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return null;
  return { meanTs, meanValue, slopePerMs: sxy / sxx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), samples: n };
}

/** When the fitted line reaches the limit, or undefined when it points away from it. */
function predictedCrossing(p: TrendParams, fit: TrendFit): number | undefined {
  const towards = p.direction === "rising" ? fit.slopePerMs > 0 : fit.slopePerMs < 0;
  return towards ? fit.meanTs + (p.limit - fit.meanValue) / fit.slopePerMs : undefined;
}

const trend: ConditionKind<TrendParams, TrendState> = {
  observe(p, s, ts, value, now) {
    windowPush(s.history, ts, value);
    s.changes += 1 + windowDropBefore(s.history, ts - p.windowSeconds * 1000);
    if (s.fit === null || recomputeDue(s.changes, windowSize(s.history))) recomputeFit(p, s);
    return trend.levelAt(p, s, now);
  },
  /** Judged at `now`: a prediction enters the horizon as time passes, so ticks matter here. */
  levelAt(p, s, now) {
    if (s.fit === null) return "unknown";
    const at = s.fit.r2 < p.minR2 ? undefined : predictedCrossing(p, s.fit);
    return at !== undefined && at - now <= p.horizonSeconds * 1000 ? "on" : "off";
  },
  describe(p, s, type, now, metric) {
    const fit = s.fit;
    const at = fit === null ? undefined : predictedCrossing(p, fit);
    const predictedAt = at === undefined ? null : new Date(Math.round(at / 1000) * 1000).toISOString();
    const detail = {
      limit: p.limit,
      direction: p.direction,
      predictedAt,
      slopePerDay: fit === null ? null : fit.slopePerMs * 86_400_000,
      r2: fit?.r2 ?? null,
      samples: fit?.samples ?? 0,
      horizonSeconds: p.horizonSeconds,
    };
    const limit = formatNumber(p.limit);
    if (type === "cleared" || at === undefined || predictedAt === null) {
      return { message: `${metric} no longer predicted to reach ${limit} within ${formatDuration(p.horizonSeconds)}`, detail };
    }
    const due = at <= now ? "already due" : `in ${formatDuration((at - now) / 1000)}`;
    return { message: `${metric} predicted to reach ${limit} on ${predictedAt.slice(0, 10)} (${due})`, detail };
  },
};

// stale ----------------------------------------------------------------------------------------

/**
 * Raised by a tick once no usable reading has arrived for `afterSeconds` (counted from the first
 * tick when none ever arrived); cleared by the next usable reading newer than the last one. A
 * data-quality event: it says nothing about the machine.
 */
function evaluateStale(rule: RuleDefinition, p: StaleParams, s: StaleState, input: RuleInput, now: number): Evaluation {
  if (input.type === "sample") {
    if (!usable(input) || (s.lastReadingTs !== null && input.ts <= s.lastReadingTs)) return { state: s };
    const silentFrom = s.lastReadingTs ?? s.watchingSince ?? input.ts;
    s.lastReadingTs = input.ts;
    if (s.phase !== "FIRING") return { state: s };
    enter(s, "NORMAL", now);
    const silentSeconds = (input.ts - silentFrom) / 1000;
    const detail = { afterSeconds: p.afterSeconds, silentSeconds, resumedAt: input.ts };
    return { state: s, transition: transition(rule, "cleared", now, input.value, `readings resumed after ${formatDuration(silentSeconds)}`, detail) };
  }
  s.watchingSince ??= now;
  const silentFrom = s.lastReadingTs ?? s.watchingSince;
  if (s.phase === "FIRING" || now - silentFrom < p.afterSeconds * 1000) return { state: s };
  enter(s, "FIRING", now);
  const detail = { afterSeconds: p.afterSeconds, lastReadingAt: s.lastReadingTs, silentSeconds: (now - silentFrom) / 1000 };
  return { state: s, transition: transition(rule, "raised", now, null, `no reading for ${formatDuration(p.afterSeconds)}`, detail) };
}

// counter --------------------------------------------------------------------------------------

/**
 * A cumulative part counter. Parts are the increases of the value; a batch completes each time
 * `batchSize` parts have accumulated since the last boundary. A drop of at most `resetTolerance` is
 * read jitter and ignored (the reference stays, so nothing is counted twice); a larger drop is a
 * reset: counting continues from the new value and no negative parts are ever counted. A jump that
 * completes several batches emits ONE batch_completed naming them all (batchNumber is the last,
 * firstBatchNumber the first, batchesCompleted how many), because `evaluate` returns at most one
 * transition; so a counter glitch can never open an event storm, however big the jump.
 */
function evaluateCounter(rule: RuleDefinition, p: CounterParams, s: CounterState, input: RuleInput, now: number): Evaluation {
  if (input.type !== "sample" || !usable(input) || (s.lastTs !== null && input.ts < s.lastTs)) return { state: s };
  s.lastTs = input.ts;
  const value = input.value;
  const delta = s.reference === null ? 0 : value - s.reference;
  if (delta < 0 && -delta <= p.resetTolerance) return { state: s };
  if (delta < 0) s.resets++;
  s.reference = value;
  if (delta <= 0) return { state: s };
  s.partsInBatch += delta;
  s.totalParts += delta;
  const completed = Math.floor(s.partsInBatch / p.batchSize);
  if (completed === 0) return { state: s };
  s.partsInBatch -= completed * p.batchSize;
  const first = s.batches + 1;
  s.batches += completed;
  const which = completed === 1 ? `batch ${s.batches}` : `batches ${first} to ${s.batches}`;
  const detail = {
    batchNumber: s.batches,
    firstBatchNumber: first,
    batchesCompleted: completed,
    batchSize: p.batchSize,
    count: s.totalParts,
    counterValue: value,
  };
  return { state: s, transition: transition(rule, "batch_completed", now, value, `${which} of ${formatNumber(p.batchSize)} parts completed`, detail) };
}

// shared ---------------------------------------------------------------------------------------

function transition(rule: RuleDefinition, type: TransitionType, at: number, value: number | null, message: string, detail: Record<string, unknown>): RuleTransition {
  return {
    type,
    ruleId: rule.id,
    ruleVersion: rule.version,
    machineId: rule.machineId,
    dataPointId: rule.dataPointId,
    at,
    ...(value === null ? {} : { value }),
    message,
    detail,
  };
}

const metricName = (rule: RuleDefinition): string => rule.metric ?? `data point ${rule.dataPointId}`;

/** 86.2, 120, 0.01234, 1235 (no float noise in messages). */
function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}

const formatPercent = (v: number): string => String(Number(v.toFixed(1)));

const durationUnits = [
  [86_400, "d"],
  [3_600, "h"],
  [60, "min"],
] as const;

/**
 * "30 s", "60 s", "90 s", "5 min", "1 h", "30 d": a whole number (under 100) of the largest unit that
 * divides the span; otherwise rounded to the largest unit it holds twice ("in 20 d", "in 7 h").
 */
function formatDuration(seconds: number): string {
  if (seconds < 120) return `${formatPercent(seconds)} s`;
  for (const [size, unit] of durationUnits) if (seconds % size === 0 && seconds / size < 100) return `${seconds / size} ${unit}`;
  for (const [size, unit] of durationUnits) if (seconds >= 2 * size) return `${Math.round(seconds / size)} ${unit}`;
  return `${Math.round(seconds)} s`;
}
