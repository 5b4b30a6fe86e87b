import { z } from "zod";
import { hasWildcard, isValidTopicFilter } from "../ingest/topic-filter.js";

/**
 * A writable data point's command route and limits, as the plant file declares them under the
 * point's `actuation:`. OPC UA joins `transport` once OPC UA bindings exist.
 */
export const actuationSpec = z
  .strictObject({
    transport: z.enum(["mqtt", "sparkplug"]),
    /** The plain MQTT command topic (transport mqtt): the hub publishes `{"value": ..., "requestId": ...}` there. */
    topic: z
      .string()
      .min(1)
      .max(512)
      .refine((t) => isValidTopicFilter(t) && !hasWildcard(t), { message: "expected an MQTT topic without wildcards" })
      .optional(),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    maxStep: z.number().finite().positive().optional(),
    minIntervalSeconds: z.number().finite().min(0).max(86_400).optional(),
    critical: z.boolean().default(false),
    allowAutomation: z.boolean().default(false),
    tolerance: z.number().finite().min(0).default(0),
  })
  .refine((a) => a.transport !== "mqtt" || a.topic !== undefined, { message: "MQTT actuation needs a command topic", path: ["topic"] })
  .refine((a) => a.transport === "mqtt" || a.topic === undefined, { message: "only MQTT actuation takes a topic", path: ["topic"] })
  .refine((a) => a.min === undefined || a.max === undefined || a.min <= a.max, { message: "min must not exceed max", path: ["min"] });
export type ActuationSpec = z.output<typeof actuationSpec>;
