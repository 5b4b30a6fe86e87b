/** Reading quality, as OPC UA status severities and Sparkplug quality codes reduce to. */
export const qualities = ["good", "uncertain", "bad"] as const;
export type Quality = (typeof qualities)[number];
export const qualityCode: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };
export const qualityFromCode = (code: number): Quality => qualities[code] ?? "bad";

/** What a source hands to the normalizer: bytes and where they came from, nothing interpreted. */
export interface RawReading {
  /** e.g. "mqtt" — recorded with quarantined messages. */
  readonly source: string;
  readonly topic: string;
  readonly payload: Buffer;
  readonly receivedAt: number;
}

/** A validated reading of one data point, ready to store. `ts` is epoch milliseconds. */
export interface Sample {
  readonly dataPointId: number;
  readonly machineId: number;
  readonly metric: string;
  readonly ts: number;
  readonly value: number;
  readonly quality: Quality;
}

export const quarantineReasons = [
  "unknown_topic",
  "malformed_payload",
  "missing_value",
  "wrong_type",
  "bad_timestamp",
  /** A Sparkplug metric by an alias no birth defined, or from an edge node or device not born. */
  "unknown_metric",
] as const;
export type QuarantineReason = (typeof quarantineReasons)[number];

/** A message (or one field of it) the hub refused, kept with the reason. */
export interface Rejection {
  readonly source: string;
  readonly topic: string;
  readonly payload: string;
  readonly reason: QuarantineReason;
  readonly detail: string;
  readonly dataPointId?: number;
}
