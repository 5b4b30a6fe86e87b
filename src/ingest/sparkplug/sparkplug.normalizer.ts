import type { RawReading } from "../../telemetry/sample.js";
import { coerceValue, describe, parseQuality, parseTimestamp, rejection, type Normalized } from "../payload.normalizer.js";
import type { SparkplugMetric } from "./sparkplug.codec.js";
import type { SparkplugBinding } from "./sparkplug.bindings.js";

/**
 * Sparkplug metrics, names resolved, to samples of the data points bound to them. Pure. The
 * metric's timestamp wins over the payload's; its Quality property (192 good, 500 stale, 0 bad)
 * becomes the sample's quality. Refused metrics are kept as JSON, not as protobuf bytes.
 */

export interface BoundMetric {
  metric: SparkplugMetric;
  bindings: readonly SparkplugBinding[];
}

export function sparkplugSamples(raw: RawReading, payloadTimestamp: number | undefined, bound: readonly BoundMetric[]): Normalized {
  const result: Normalized = { samples: [], rejections: [] };
  for (const { metric, bindings } of bound) {
    const refuse = (reason: Parameters<typeof rejection>[1], detail: string, dataPointId: number) =>
      result.rejections.push(rejection(asJson(raw, metric), reason, detail, dataPointId));
    const ts = parseTimestamp(metric.timestamp ?? payloadTimestamp, raw.receivedAt);
    const quality = parseQuality(metric.quality);
    for (const binding of bindings) {
      const what = binding.metric;
      if (metric.isNull) refuse("missing_value", `${what}: the metric is null`, binding.dataPointId);
      else if (ts === undefined) refuse("bad_timestamp", `${what}: unusable timestamp ${describe(metric.timestamp ?? payloadTimestamp)}`, binding.dataPointId);
      else if (quality === undefined) refuse("malformed_payload", `${what}: unknown quality code ${describe(metric.quality)}`, binding.dataPointId);
      else {
        const value = coerceValue(metric.value, binding.dataType);
        if (value === undefined) refuse("wrong_type", `${what}: expected ${binding.dataType}, got ${describe(metric.value)} (${metric.type ?? "no type"})`, binding.dataPointId);
        else result.samples.push({ dataPointId: binding.dataPointId, machineId: binding.machineId, metric: binding.metric, ts, value, quality });
      }
    }
  }
  return result;
}

/** The raw reading with the one metric, as JSON, in place of the protobuf bytes. */
export function asJson(raw: RawReading, metric: SparkplugMetric): RawReading {
  return { ...raw, payload: Buffer.from(JSON.stringify(metric)) };
}
