import { z } from "zod";
import { dataTypes } from "../../schema/db/assets.js";
import { actuationSpec } from "../actuation/actuation.rules.js";
import { sparkplugId, sparkplugMetricName } from "../ingest/sparkplug/sparkplug.rules.js";
import { isValidTopicFilter } from "../ingest/topic-filter.js";

/**
 * Validation shared by every way the asset model changes (GraphQL mutations and the plant file),
 * so both accept and reject exactly the same things.
 */

/** A Unified Namespace segment: no spaces and none of MQTT's `+ # / $`. */
export const assetName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
    message: "expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit",
  });

export const topicFilter = z
  .string()
  .min(1)
  .max(512)
  .refine(isValidTopicFilter, {
    message: "expected an MQTT topic filter: '+' and '#' only as whole segments, '#' only last",
  });

export const timezone = z.string().refine(isKnownTimeZone, { message: "expected an IANA time zone such as Europe/Berlin" });

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const dataPointSpec = z
  .object({
    name: assetName,
    unit: z.string().max(32).optional(),
    dataType: z.enum(dataTypes).default("float"),
    normalMin: z.number().finite().optional(),
    normalMax: z.number().finite().optional(),
    mqttTopic: topicFilter.optional(),
    mqttField: z.string().min(1).max(128).optional(),
    sparkplugGroup: sparkplugId.optional(),
    sparkplugNode: sparkplugId.optional(),
    sparkplugDevice: sparkplugId.optional(),
    /** Default: the point's name. */
    sparkplugMetric: sparkplugMetricName.optional(),
    actuation: actuationSpec.optional(),
  })
  .refine((p) => p.normalMin === undefined || p.normalMax === undefined || p.normalMin <= p.normalMax, {
    message: "normal range minimum must not exceed its maximum",
    path: ["normalMin"],
  })
  .refine((p) => (p.sparkplugGroup === undefined) === (p.sparkplugNode === undefined), {
    message: "a Sparkplug binding names both its group and its edge node",
    path: ["sparkplugNode"],
  })
  .refine((p) => (p.sparkplugDevice === undefined && p.sparkplugMetric === undefined) || p.sparkplugGroup !== undefined, {
    message: "a Sparkplug device or metric needs the group and edge node too",
    path: ["sparkplugGroup"],
  })
  .refine((p) => p.actuation?.transport !== "sparkplug" || p.sparkplugGroup !== undefined, {
    message: "Sparkplug actuation writes through the point's Sparkplug binding: give it a group and edge node",
    path: ["actuation", "transport"],
  });
export type DataPointSpec = z.output<typeof dataPointSpec>;

export const machinePathSpec = z.object({
  enterprise: assetName,
  site: assetName,
  area: assetName,
  line: assetName,
  name: assetName,
});
export type MachinePath = z.output<typeof machinePathSpec>;

export function formatMachinePath(p: MachinePath): string {
  return [p.enterprise, p.site, p.area, p.line, p.name].join("/");
}
