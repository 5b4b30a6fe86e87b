import type { Binding } from "./binding-index.js";
import type { DataType } from "../../schema/db/assets.js";
import type { Quality, QuarantineReason, RawReading, Rejection, Sample } from "../telemetry/sample.js";

/**
 * Turns one raw MQTT message into samples for the data points bound to its topic. Pure: no I/O,
 * no clock (the receive time comes with the message). A bad field rejects that field alone, so a
 * good reading beside it is never lost.
 */

export interface Normalized {
  samples: Sample[];
  rejections: Rejection[];
}

const STORED_PAYLOAD_LIMIT = 4_096;
/** Source timestamps further than this from the receive time are not believed. */
const MAX_CLOCK_SKEW_MS = 24 * 3_600_000;

type Problem = { reason: QuarantineReason; detail: string };
type Extracted = { ok: true; value: unknown } | ({ ok: false } & Problem);

/** Payload formats, chosen by what the JSON parses to. */
interface PayloadFormat {
  readonly name: string;
  matches(parsed: unknown): boolean;
  /** The message's timestamp and quality, shared by every value in it. */
  envelope(parsed: unknown): { ts: unknown; quality: unknown };
  extract(parsed: unknown, binding: Binding): Extracted;
}

const barePayload: PayloadFormat = {
  name: "bare value",
  matches: (parsed) => typeof parsed === "number" || typeof parsed === "boolean",
  envelope: () => ({ ts: undefined, quality: undefined }),
  extract: (parsed, binding) =>
    binding.field === undefined
      ? { ok: true, value: parsed }
      : { ok: false, reason: "missing_value", detail: `expected a JSON object with field "${binding.field}", got a bare value` },
};

const objectPayload: PayloadFormat = {
  name: "JSON object",
  matches: (parsed) => typeof parsed === "object" && parsed !== null && !Array.isArray(parsed),
  envelope: (parsed) => {
    const object = parsed as Record<string, unknown>;
    return { ts: object.ts ?? object.timestamp, quality: object.quality };
  },
  extract: (parsed, binding) => {
    const object = parsed as Record<string, unknown>;
    const field = binding.field ?? "value";
    if (!Object.hasOwn(object, field) || object[field] === null) {
      return { ok: false, reason: "missing_value", detail: `field "${field}" is missing` };
    }
    return { ok: true, value: object[field] };
  },
};

const payloadFormats: readonly PayloadFormat[] = [barePayload, objectPayload];

export function normalize(raw: RawReading, bindings: readonly Binding[]): Normalized {
  if (bindings.length === 0) {
    return reject(raw, "unknown_topic", `no data point is bound to topic "${raw.topic}"`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.payload.toString("utf8"));
  } catch (error) {
    return reject(raw, "malformed_payload", `not JSON: ${(error as Error).message}`);
  }
  const format = payloadFormats.find((f) => f.matches(parsed));
  if (!format) {
    return reject(raw, "malformed_payload", `expected a number, a boolean or a JSON object, got ${describe(parsed)}`);
  }
  // Parsed once per message, not once per metric in it: the hot path's multi-metric messages.
  const envelope = format.envelope(parsed);
  const ts = parseTimestamp(envelope.ts, raw.receivedAt);
  const quality = parseQuality(envelope.quality);
  const envelopeProblem: Problem | undefined =
    ts === undefined
      ? { reason: "bad_timestamp", detail: `unusable timestamp ${describe(envelope.ts)}` }
      : quality === undefined
        ? { reason: "malformed_payload", detail: `quality must be good, uncertain, bad or a Sparkplug code, got ${describe(envelope.quality)}` }
        : undefined;
  const result: Normalized = { samples: [], rejections: [] };
  for (const binding of bindings) {
    const extracted = format.extract(parsed, binding);
    const value = extracted.ok ? coerceValue(extracted.value, binding.dataType) : undefined;
    const problem: Problem | undefined = !extracted.ok
      ? extracted
      : value === undefined
        ? { reason: "wrong_type", detail: `expected ${binding.dataType}, got ${describe(extracted.value)}` }
        : envelopeProblem;
    if (problem) result.rejections.push(rejection(raw, problem.reason, `${binding.metric}: ${problem.detail}`, binding.dataPointId));
    else result.samples.push({ dataPointId: binding.dataPointId, machineId: binding.machineId, metric: binding.metric, ts: ts!, value: value!, quality: quality! });
  }
  return result;
}

/** A JSON or OPC UA value as the data point's type stores it; undefined when it is not one. */
export function coerceValue(value: unknown, dataType: DataType): number | undefined {
  switch (dataType) {
    case "float":
      return typeof value === "number" && Number.isFinite(value) ? value : undefined;
    case "integer":
      return typeof value === "number" && Number.isSafeInteger(value) ? value : undefined;
    case "boolean":
      if (typeof value === "boolean") return value ? 1 : 0;
      return value === 0 || value === 1 ? value : undefined;
  }
}

/** ISO 8601 strings or epoch milliseconds; absent means the receive time. */
export function parseTimestamp(ts: unknown, receivedAt: number): number | undefined {
  if (ts === undefined) return receivedAt;
  const ms = typeof ts === "number" ? ts : typeof ts === "string" ? Date.parse(ts) : Number.NaN;
  if (!Number.isFinite(ms) || Math.abs(ms - receivedAt) > MAX_CLOCK_SKEW_MS) return undefined;
  return Math.round(ms);
}

const sparkplugQuality: Record<number, Quality> = { 192: "good", 500: "uncertain", 0: "bad" };

export function parseQuality(quality: unknown): Quality | undefined {
  if (quality === undefined) return "good";
  if (quality === "good" || quality === "uncertain" || quality === "bad") return quality;
  if (typeof quality === "number") return sparkplugQuality[quality];
  return undefined;
}

export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function reject(raw: RawReading, reason: QuarantineReason, detail: string): Normalized {
  return { samples: [], rejections: [rejection(raw, reason, detail)] };
}

/** At most STORED_PAYLOAD_LIMIT bytes, cut on a character boundary. */
function storedPayload(payload: Buffer): string {
  if (payload.length <= STORED_PAYLOAD_LIMIT) return payload.toString("utf8");
  // A cut through a multi-byte character decodes to U+FFFD; drop that partial character.
  return `${payload.subarray(0, STORED_PAYLOAD_LIMIT).toString("utf8").replace(/\uFFFD$/, "")}…`;
}

export function rejection(raw: RawReading, reason: QuarantineReason, detail: string, dataPointId?: number): Rejection {
  return {
    source: raw.source,
    topic: raw.topic,
    payload: storedPayload(raw.payload),
    reason,
    detail,
    ...(dataPointId === undefined ? {} : { dataPointId }),
  };
}
