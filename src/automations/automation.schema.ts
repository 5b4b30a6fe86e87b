import { z } from "zod";
import { severities } from "../../schema/db/events.js";
import { assetName, timezone } from "../assets/asset.rules.js";
import { machineStates } from "../telemetry/machine-state.js";

/**
 * Automations: a trigger, conditions on the event's context, and actions. One schema for GraphQL
 * and the plant file, so both accept exactly the same things.
 */

export const automationTriggers = ["alarm.raised", "alarm.cleared", "batch.completed", "machine.state_changed", "data.stale", "order.completed", "order.at_risk", "line.at_capacity"] as const;
export type AutomationTrigger = (typeof automationTriggers)[number];

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'expected a time of day "HH:MM"' });
const path = (segments: number, example: string) =>
  z.string().refine((p) => p.split("/").length === segments && p.split("/").every((s) => assetName.safeParse(s).success), {
    message: `expected a path like "${example}"`,
  });

export const automationConditions = z.strictObject({
  sites: z.array(path(2, "acme/plant-1")).optional(),
  lines: z.array(path(4, "acme/plant-1/packaging/line-1")).optional(),
  machines: z.array(path(5, "acme/plant-1/packaging/line-1/sealer")).optional(),
  severities: z.array(z.enum(severities)).optional(),
  /** Rule names: e.g. only the "overheating" rules. */
  rules: z.array(z.string().min(1)).optional(),
  /** For machine.state_changed: the states entered that count. */
  states: z.array(z.enum(machineStates)).optional(),
  /** Local time window (wraps past midnight when `from` > `to`), in `timezone` or the site's zone. */
  timeOfDay: z.strictObject({ from: clock, to: clock, timezone: timezone.optional() }).optional(),
});
export type AutomationConditions = z.output<typeof automationConditions>;

const actionKey = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: "expected 1-32 lower-case letters, digits, '_' or '-'" });
const integrationName = z.string().trim().min(1, { message: "expected an integration name" });
const template = (max: number) => z.string().min(1).max(max);

/** The code of a lot a next_lot action starts, unless it gives another. */
export const DEFAULT_LOT_CODE = "{{machine.name}}-{{date}}-{{seq}}";

export const automationAction = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("create_task"),
    key: actionKey,
    integration: integrationName,
    title: template(255),
    description: template(10_000).default("{{event.message}}"),
    assignee: z.string().max(128).optional(),
    /** Due date: this many hours after the event. */
    dueInHours: z.number().positive().max(24 * 365).optional(),
    labels: z.array(z.string().regex(/^[^\s,]{1,64}$/, { message: "labels have no spaces or commas" })).max(20).default([]),
    priority: z.enum(["low", "medium", "high", "critical"]).optional(),
  }),
  z.strictObject({
    type: z.literal("notify"),
    key: actionKey,
    integration: integrationName,
    title: template(255).default("{{event.kind}} on {{machine.name}}"),
    text: template(4_000),
  }),
  /** Closes the tasks the event's alarm led to in this integration (alarm.cleared). */
  z.strictObject({ type: z.literal("close_task"), key: actionKey, integration: integrationName, comment: template(4_000).optional() }),
  /** Comments on the tasks the event's alarm led to in this integration. */
  z.strictObject({ type: z.literal("comment_task"), key: actionKey, integration: integrationName, comment: template(4_000) }),
  /**
   * Writes a setpoint of the event's machine through the same guard as people: the point must
   * allow automations, its limits hold, and a critical point waits for a person's approval.
   */
  z.strictObject({
    type: z.literal("actuate"),
    key: actionKey,
    point: assetName,
    value: z.number().finite(),
    reason: z.string().trim().min(1).max(500).optional(),
  }),
  /**
   * Ends the event's machine's running lot (with the batch's parts, on batch.completed) and starts
   * the next, its code from a template: {{machine.name}}, {{machine.path}}, {{date}}, {{seq}}.
   */
  z.strictObject({
    type: z.literal("next_lot"),
    key: actionKey,
    code: template(128).default(DEFAULT_LOT_CODE),
    product: z.string().trim().min(1).max(128).optional(),
  }),
]);
export type AutomationAction = z.output<typeof automationAction>;

export const automationSpec = z
  .strictObject({
    name: z.string().trim().min(1).max(128),
    trigger: z.enum(automationTriggers),
    conditions: automationConditions.default({}),
    actions: z.array(automationAction).min(1, { message: "expected at least one action" }).max(10),
    cooldownSeconds: z.number().int().min(0).max(7 * 86_400).default(0),
    enabled: z.boolean().default(true),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.actions.forEach((action, i) => {
      if (seen.has(action.key)) ctx.addIssue({ code: "custom", path: ["actions", i, "key"], message: `duplicate action key "${action.key}"` });
      seen.add(action.key);
      const needsAlarm = action.type === "close_task" || action.type === "comment_task";
      if (needsAlarm && !spec.trigger.startsWith("alarm.")) {
        ctx.addIssue({ code: "custom", path: ["actions", i, "type"], message: `${action.type} needs an alarm trigger (its tasks are the alarm's)` });
      }
    });
  });
export type AutomationSpec = z.input<typeof automationSpec>;
export type ValidAutomation = z.output<typeof automationSpec>;
