import type { DataType } from "../../schema/db/assets.js";
import { coerceValue, parseTimestamp, type Normalized } from "../ingest/payload.normalizer.js";
import type { Quality } from "../telemetry/sample.js";
import type { OpcuaChange } from "./opcua.source.js";

/** The data point an OPC UA monitored item feeds. */
export interface OpcuaTarget {
  readonly dataPointId: number;
  readonly machineId: number;
  readonly metric: string;
  readonly dataType: DataType;
  /** `<endpoint name> <NodeId or browse path>`: where a refused value came from. */
  readonly address: string;
}

/** The severity in a StatusCode's top two bits: 00 Good, 01 Uncertain, 10 and 11 Bad. */
export function qualityOfStatus(statusCode: number): Quality {
  const severity = statusCode >>> 30;
  return severity === 0 ? "good" : severity === 1 ? "uncertain" : "bad";
}

/**
 * Turns data changes into samples. Pure. The source timestamp is kept (the server's when the
 * source sent none); a Bad status with no usable value (BadWaitingForInitialData, a lost device)
 * yields nothing, a Bad status with a value is stored flagged bad, which the rules ignore.
 */
export function normalizeOpcua(changes: readonly OpcuaChange[], targets: ReadonlyMap<number, OpcuaTarget>): Normalized {
  const result: Normalized = { samples: [], rejections: [] };
  for (const change of changes) {
    const target = targets.get(change.key);
    if (!target) continue;
    const quality = qualityOfStatus(change.statusCode);
    const value = coerceValue(toNumberish(change.value), target.dataType);
    const ts = parseTimestamp(change.sourceTimestamp ?? change.serverTimestamp, change.receivedAt);
    if (value === undefined) {
      if (quality !== "bad") result.rejections.push(rejection(change, target, "wrong_type", `${target.metric}: expected ${target.dataType}, got ${describe(change.value)}`));
      continue;
    }
    if (ts === undefined) {
      result.rejections.push(rejection(change, target, "bad_timestamp", `${target.metric}: unusable source timestamp ${new Date(change.sourceTimestamp ?? 0).toISOString()}`));
      continue;
    }
    result.samples.push({ dataPointId: target.dataPointId, machineId: target.machineId, metric: target.metric, ts, value, quality });
  }
  return result;
}

/** 64-bit integers arrive as [high, low] 32-bit words. */
function toNumberish(value: unknown): unknown {
  if (Array.isArray(value) && value.length === 2 && value.every((w) => typeof w === "number")) {
    const [high, low] = value as [number, number];
    return high * 2 ** 32 + (low >>> 0);
  }
  return value;
}

function describe(value: unknown): string {
  const text = value === undefined ? "nothing" : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function rejection(change: OpcuaChange, target: OpcuaTarget, reason: "wrong_type" | "bad_timestamp", detail: string) {
  return {
    source: "opcua",
    topic: target.address,
    payload: JSON.stringify({ value: describe(change.value), statusCode: change.statusCode, sourceTimestamp: change.sourceTimestamp }),
    reason,
    detail,
    dataPointId: target.dataPointId,
  };
}
