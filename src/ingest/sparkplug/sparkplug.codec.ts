import sparkplugPayload from "sparkplug-payload";
import type { UMetric, UPayload } from "sparkplug-payload/lib/sparkplugbpayload.js";

/**
 * Sparkplug B payloads (protobuf) to plain values and back, through the Eclipse Tahu codec. Its
 * 64-bit fields arrive as Long objects; here they become numbers (timestamps, seq, aliases and
 * values all fit well within 2^53 in practice; larger ones lose precision, not their order).
 */

const codec = sparkplugPayload.get("spBv1.0")!;

export interface SparkplugMetric {
  name?: string;
  alias?: number;
  /** Numbers and booleans as sent; strings and other types as they decode. */
  value: unknown;
  type?: string;
  timestamp?: number;
  /** The `Quality` property (Int32): 192 good, 500 stale, 0 bad. */
  quality?: number;
  isNull: boolean;
}

export interface SparkplugPayload {
  timestamp?: number;
  seq?: number;
  metrics: SparkplugMetric[];
}

/** Throws on bytes that are not a Sparkplug B payload. */
export function decodeSparkplug(bytes: Uint8Array): SparkplugPayload {
  const decoded = codec.decodePayload(bytes);
  return {
    timestamp: toNumber(decoded.timestamp),
    seq: toNumber(decoded.seq),
    metrics: (decoded.metrics ?? []).map(toMetric),
  };
}

export function encodeSparkplug(payload: UPayload): Buffer {
  return Buffer.from(codec.encodePayload(payload));
}

/** The host's NCMD asking an edge node to publish its births again. */
export function rebirthCommand(now: number): Buffer {
  return encodeSparkplug({ timestamp: now, metrics: [{ name: REBIRTH_METRIC, type: "Boolean", value: true }] });
}
export const REBIRTH_METRIC = "Node Control/Rebirth";

function toMetric(metric: UMetric): SparkplugMetric {
  const quality = toNumber(metric.properties?.Quality?.value as unknown);
  return {
    ...(metric.name ? { name: metric.name } : {}),
    ...(metric.alias !== undefined && metric.alias !== null ? { alias: toNumber(metric.alias) } : {}),
    value: toNumber(metric.value) ?? metric.value,
    ...(metric.type ? { type: metric.type } : {}),
    ...(metric.timestamp !== undefined && metric.timestamp !== null ? { timestamp: toNumber(metric.timestamp) } : {}),
    ...(quality !== undefined ? { quality } : {}),
    isNull: metric.isNull === true || metric.value === null || metric.value === undefined,
  };
}

/** Long (protobufjs 64-bit) or number to number; anything else to undefined. */
function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "object" && value !== null && "toNumber" in value && typeof value.toNumber === "function") {
    return (value as { toNumber(): number }).toNumber();
  }
  return undefined;
}
