import { z } from "zod";

/**
 * The parameters of a rule, one shape per `kind`. Parsing fills in the defaults, so the rule layer
 * only ever sees complete parameters. Unknown keys are refused, so a misspelt `forSecond` is an
 * error instead of a silent default. Messages say what is expected.
 */

const seconds = (field: string, fallback: number) =>
  z.number({ error: `${field} must be a number of seconds` }).min(0, `${field} must be 0 or more seconds`).default(fallback);
const positiveSeconds = (field: string) =>
  z.number({ error: `${field} must be a number of seconds` }).positive(`${field} must be more than 0 seconds`);
const finite = (field: string) => z.number({ error: `${field} must be a number` });
const sampleCount = (field: string, least: number, fallback: number) =>
  z
    .number({ error: `${field} must be a whole number of samples` })
    .int(`${field} must be a whole number of samples`)
    .min(least, `${field} must be at least ${least}`)
    .default(fallback);

/** Confirmation windows shared by the condition rules (NORMAL → PENDING → FIRING → RECOVERING). */
const confirmation = {
  /** The condition must hold this long (PENDING) before the rule fires. */
  forSeconds: seconds("forSeconds", 0),
  /** The condition must stay away this long (RECOVERING) before the rule clears. */
  clearForSeconds: seconds("clearForSeconds", 0),
};

export const thresholdParams = z
  .strictObject({
    kind: z.literal("threshold"),
    condition: z.enum(["above", "below", "outside"], { error: "threshold condition must be 'above', 'below' or 'outside'" }),
    /** For "above" and "below". */
    limit: finite("threshold limit").optional(),
    /** For "outside": the rule fires below `low` or above `high`. */
    low: finite("threshold low").optional(),
    high: finite("threshold high").optional(),
    /** Absolute units: "above" fires at > limit and recovers only at < limit − hysteresis. */
    hysteresis: z.number({ error: "threshold hysteresis must be a number" }).min(0, "threshold hysteresis must be 0 or more (absolute units)").default(0),
    ...confirmation,
  })
  .superRefine((p, ctx) => {
    const fail = (message: string, path: string) => ctx.addIssue({ code: "custom", message, path: [path] });
    if (p.condition !== "outside") {
      if (p.limit === undefined) fail(`threshold '${p.condition}' needs a limit`, "limit");
      if (p.low !== undefined || p.high !== undefined) fail(`threshold '${p.condition}' takes a limit, not low/high`, p.low === undefined ? "high" : "low");
      return;
    }
    if (p.limit !== undefined) fail("threshold 'outside' takes low and high, not a limit", "limit");
    if (p.low === undefined || p.high === undefined) return fail("threshold 'outside' needs low and high", p.low === undefined ? "low" : "high");
    if (!(p.low < p.high)) return fail("threshold 'outside' needs low < high", "high");
    if (2 * p.hysteresis >= p.high - p.low) fail("threshold 'outside' needs hysteresis smaller than half of high − low, or it could never clear", "hysteresis");
  });

export const deviationParams = z
  .strictObject({
    kind: z.literal("deviation"),
    direction: z.enum(["below", "above", "either"], { error: "deviation direction must be 'below', 'above' or 'either'" }),
    /** How far from the baseline, in percent of it (15 = 15 %), before the rule fires. */
    percent: z.number({ error: "deviation percent must be a number" }).positive("deviation percent must be more than 0 (15 means 15 %)"),
    /** The rolling window of the machine/metric's own history the baseline is learned from. */
    baselineWindowSeconds: positiveSeconds("deviation baselineWindowSeconds").default(3600),
    /** The rule cannot fire until the baseline window holds this many samples. */
    minSamples: sampleCount("deviation minSamples", 1, 30),
    statistic: z.enum(["median", "mean"], { error: "deviation statistic must be 'median' or 'mean'" }).default("median"),
    /** Percentage points the deviation must fall back by before the rule recovers. */
    hysteresisPercent: z.number({ error: "deviation hysteresisPercent must be a number" }).min(0, "deviation hysteresisPercent must be 0 or more").default(2),
    ...confirmation,
  })
  .refine((p) => p.hysteresisPercent < p.percent, {
    error: "deviation hysteresisPercent must be smaller than percent, or the rule could never clear",
    path: ["hysteresisPercent"],
  });

export const rateParams = z.strictObject({
  kind: z.literal("rate"),
  /** The absolute change per minute allowed. */
  maxPerMinute: z.number({ error: "rate maxPerMinute must be a number" }).positive("rate maxPerMinute must be more than 0"),
  /** The change is measured against the reading at least this old. */
  windowSeconds: positiveSeconds("rate windowSeconds").default(60),
  direction: z.enum(["rising", "falling", "either"], { error: "rate direction must be 'rising', 'falling' or 'either'" }).default("either"),
  ...confirmation,
});

export const staleParams = z.strictObject({
  kind: z.literal("stale"),
  /** Raised when no usable reading has arrived for this long. */
  afterSeconds: positiveSeconds("stale afterSeconds"),
});

export const trendParams = z.strictObject({
  kind: z.literal("trend"),
  /** The value whose crossing is predicted. */
  limit: finite("trend limit"),
  direction: z.enum(["rising", "falling"], { error: "trend direction must be 'rising' or 'falling'" }),
  /** The history the straight line is fitted to (e.g. 7 days). */
  windowSeconds: positiveSeconds("trend windowSeconds"),
  /** The rule fires when the predicted crossing is at most this far ahead (e.g. 30 days). */
  horizonSeconds: positiveSeconds("trend horizonSeconds"),
  minSamples: sampleCount("trend minSamples", 2, 20),
  /** Fits with a lower coefficient of determination predict nothing. */
  minR2: z.number({ error: "trend minR2 must be a number" }).min(0, "trend minR2 must be between 0 and 1").max(1, "trend minR2 must be between 0 and 1").default(0),
  ...confirmation,
});

export const counterParams = z.strictObject({
  kind: z.literal("counter"),
  /** Parts per batch. */
  batchSize: z.number({ error: "counter batchSize must be a number of parts" }).int("counter batchSize must be a whole number of parts").positive("counter batchSize must be at least 1 part"),
  /** A drop of at most this many parts is read jitter and ignored; a larger drop is a counter reset. */
  resetTolerance: z.number({ error: "counter resetTolerance must be a number of parts" }).min(0, "counter resetTolerance must be 0 or more parts").default(0),
});

export const ruleKinds = ["threshold", "deviation", "rate", "stale", "trend", "counter"] as const;
export type RuleKind = (typeof ruleKinds)[number];

export const ruleParams = z.discriminatedUnion(
  "kind",
  [thresholdParams, deviationParams, rateParams, staleParams, trendParams, counterParams],
  { error: `rule kind must be one of ${ruleKinds.join(", ")}` },
);

export type RuleParams = z.infer<typeof ruleParams>;
export type ThresholdParams = z.infer<typeof thresholdParams>;
export type DeviationParams = z.infer<typeof deviationParams>;
export type RateParams = z.infer<typeof rateParams>;
export type StaleParams = z.infer<typeof staleParams>;
export type TrendParams = z.infer<typeof trendParams>;
export type CounterParams = z.infer<typeof counterParams>;
