import { z } from "zod";
import { commandTransports, type MethodAddress } from "../../schema/db/actuation.js";
import { sparkplugId, sparkplugMetricName } from "../ingest/sparkplug/sparkplug.rules.js";
import { hasWildcard, isValidTopicFilter } from "../ingest/topic-filter.js";
import { nodeId } from "../opcua/node-id.rules.js";

/**
 * What the plant file declares about commanding machines: a writable data point's route and
 * limits (the point's `actuation:`), and the methods a machine offers (its `methods:`).
 */

const commandTopic = z
  .string()
  .min(1)
  .max(512)
  .refine((t) => isValidTopicFilter(t) && !hasWildcard(t), { message: "expected an MQTT topic without wildcards" });
const minIntervalSeconds = z.number().finite().min(0).max(86_400);

export const actuationSpec = z
  .strictObject({
    /** mqtt: a command topic; sparkplug and opcua: the point's own binding. */
    transport: z.enum(commandTransports),
    /** The plain MQTT command topic (transport mqtt): the hub publishes `{"value": ..., "actuationId": ..., "ts": ...}` there. */
    topic: commandTopic.optional(),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    maxStep: z.number().finite().positive().optional(),
    minIntervalSeconds: minIntervalSeconds.optional(),
    critical: z.boolean().default(false),
    allowAutomation: z.boolean().default(false),
    tolerance: z.number().finite().min(0).default(0),
  })
  .refine((a) => a.transport !== "mqtt" || a.topic !== undefined, { message: "MQTT actuation needs a command topic", path: ["topic"] })
  .refine((a) => a.transport === "mqtt" || a.topic === undefined, { message: "only MQTT actuation takes a topic", path: ["topic"] })
  .refine((a) => a.min === undefined || a.max === undefined || a.min <= a.max, { message: "min must not exceed max", path: ["min"] });
export type ActuationSpec = z.output<typeof actuationSpec>;

/**
 * A machine method: called as JSON `{"method": ..., "arguments": {...}, "actuationId": ..., "ts": ...}`
 * on a plain MQTT topic, as a Sparkplug command metric set to true (no arguments), or as an OPC UA
 * method call (objectId, methodId) on one of the hub's endpoints, its arguments by name.
 */
export const methodSpec = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { message: "expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit" }),
    transport: z.enum(commandTransports),
    topic: commandTopic.optional(),
    sparkplug: z.strictObject({ group: sparkplugId, node: sparkplugId, device: sparkplugId.optional(), metric: sparkplugMetricName }).optional(),
    /** OPC UA: the endpoint's name, the object the method belongs to, and the method. */
    endpoint: z.string().min(1).max(63).optional(),
    objectId: nodeId.optional(),
    methodId: nodeId.optional(),
    minIntervalSeconds: minIntervalSeconds.optional(),
    critical: z.boolean().default(false),
    allowAutomation: z.boolean().default(false),
  })
  .refine((m) => (m.transport === "mqtt") === (m.topic !== undefined), { message: "an MQTT method has a topic, and only an MQTT method", path: ["topic"] })
  .refine((m) => (m.transport === "sparkplug") === (m.sparkplug !== undefined), { message: "a Sparkplug method has a sparkplug address, and only a Sparkplug method", path: ["sparkplug"] })
  .superRefine((m, ctx) => {
    const opcua = { endpoint: m.endpoint, objectId: m.objectId, methodId: m.methodId };
    for (const [key, value] of Object.entries(opcua)) {
      if (m.transport === "opcua" && value === undefined) ctx.addIssue({ code: "custom", path: [key], message: `an OPC UA method names its endpoint, objectId and methodId: ${key} is missing` });
      if (m.transport !== "opcua" && value !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `only an OPC UA method takes ${key}` });
    }
  });
export type MethodSpec = z.output<typeof methodSpec>;

/** The stored address of a method (machine_method.address). */
export function methodAddress(spec: MethodSpec): MethodAddress {
  if (spec.topic !== undefined) return { topic: spec.topic };
  if (spec.transport === "opcua") return { endpoint: spec.endpoint!, objectId: spec.objectId!, methodId: spec.methodId! };
  const { group, node, device, metric } = spec.sparkplug!;
  return { group, node, ...(device === undefined ? {} : { device }), metric };
}
