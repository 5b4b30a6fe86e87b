import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { dataPoints, machines } from "./assets.js";
import { integrations } from "./security.js";

// Rules → events → alarms → automations → event actions: the transactional alarm path.

export const severities = ["info", "warning", "critical"] as const;
export type Severity = (typeof severities)[number];

/** A rule on one data point. `params` is validated by src/rules/rule.schema.ts; `version` goes up on every change. */
export const rules = pgTable(
  "rule",
  {
    id: serial("id").primaryKey(),
    machineId: integer("machine_id")
      .notNull()
      .references(() => machines.id, { onDelete: "cascade" }),
    dataPointId: integer("data_point_id")
      .notNull()
      .references(() => dataPoints.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: text("kind").notNull(),
    params: jsonb("params").$type<Record<string, unknown>>().notNull(),
    severity: text("severity", { enum: severities }).notNull().default("warning"),
    enabled: boolean("enabled").notNull().default(true),
    version: integer("version").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("rule_machine_name").on(t.machineId, t.name), index("rule_data_point").on(t.dataPointId)],
);

export const alarmStates = ["active", "acknowledged", "cleared"] as const;
export type AlarmState = (typeof alarmStates)[number];

/**
 * An alarm raised by a rule. At most one open (not cleared) alarm per (machine, rule): the partial
 * unique index is what makes a second raise update the open one instead of opening another.
 */
export const alarms = pgTable(
  "alarm",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    machineId: integer("machine_id")
      .notNull()
      .references(() => machines.id, { onDelete: "cascade" }),
    ruleId: integer("rule_id")
      .notNull()
      .references(() => rules.id, { onDelete: "cascade" }),
    ruleVersion: integer("rule_version").notNull(),
    severity: text("severity", { enum: severities }).notNull(),
    state: text("state", { enum: alarmStates }).notNull().default("active"),
    /** The rule's condition still holds (false once the value is back to normal). */
    conditionActive: boolean("condition_active").notNull().default(true),
    message: text("message").notNull(),
    value: doublePrecision("value"),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
    raisedAt: timestamp("raised_at", { withTimezone: true }).notNull(),
    /** Raises folded into this alarm (re-raises while open, or within the flap window after a clear). */
    raiseCount: integer("raise_count").notNull().default(1),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
    acknowledgedBy: text("acknowledged_by"),
    clearedAt: timestamp("cleared_at", { withTimezone: true }),
    shelvedUntil: timestamp("shelved_until", { withTimezone: true }),
    shelvedBy: text("shelved_by"),
    shelveReason: text("shelve_reason"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("alarm_one_open_per_rule").on(t.machineId, t.ruleId).where(sql`${t.state} <> 'cleared'`),
    index("alarm_state_raised").on(t.state, t.raisedAt),
    index("alarm_rule_cleared").on(t.ruleId, t.clearedAt),
    check("alarm_state", sql`${t.state} in ('active', 'acknowledged', 'cleared')`),
  ],
);

export const eventKinds = [
  "alarm.raised",
  "alarm.cleared",
  "batch.completed",
  "data.stale",
  "data.resumed",
  "machine.state_changed",
  "task.status_changed",
  "order.completed",
  "order.at_risk",
  "line.at_capacity",
] as const;
export type EventKind = (typeof eventKinds)[number];

/** Something that happened on the floor or to a task: the input of automations. */
export const events = pgTable(
  "event",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    kind: text("kind", { enum: eventKinds }).notNull(),
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull(),
    machineId: integer("machine_id").references(() => machines.id, { onDelete: "set null" }),
    ruleId: integer("rule_id").references(() => rules.id, { onDelete: "set null" }),
    /** The rule's version when it raised this event. */
    ruleVersion: integer("rule_version"),
    alarmId: bigint("alarm_id", { mode: "number" }).references(() => alarms.id, { onDelete: "set null" }),
    severity: text("severity", { enum: severities }).notNull().default("info"),
    message: text("message").notNull(),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("event_at").on(t.at), index("event_machine_at").on(t.machineId, t.at), index("event_alarm").on(t.alarmId)],
);

/** An automation: trigger + conditions → actions. `conditions` and `actions` are validated by src/automations. */
export const automations = pgTable("automation", {
  id: serial("id").primaryKey(),
  name: text("name").notNull().unique(),
  trigger: text("trigger").notNull(),
  conditions: jsonb("conditions").$type<Record<string, unknown>>().notNull().default({}),
  actions: jsonb("actions").$type<Record<string, unknown>[]>().notNull().default([]),
  cooldownSeconds: integer("cooldown_seconds").notNull().default(0),
  enabled: boolean("enabled").notNull().default(true),
  version: integer("version").notNull().default(1),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const actionStatuses = ["pending", "done", "dead", "skipped"] as const;
export type ActionStatus = (typeof actionStatuses)[number];

/**
 * One planned action of one automation for one event, written in the event's transaction. It is
 * the unit of work of a job (job data holds its id), the dead letter when it fails for good, and
 * what the reconcile job re-enqueues while it stays pending.
 */
export const eventActions = pgTable(
  "event_action",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    eventId: bigint("event_id", { mode: "number" })
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    automationId: integer("automation_id").references(() => automations.id, { onDelete: "set null" }),
    automationVersion: integer("automation_version").notNull(),
    /** `<automation id>.<action key>`: unique within an event and stable across replays. */
    actionKey: text("action_key").notNull(),
    actionType: text("action_type").notNull(),
    integrationId: integer("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    /** The action as configured when the event happened (templates rendered by the worker). */
    spec: jsonb("spec").$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: actionStatuses }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    errorKind: text("error_kind"),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    doneAt: timestamp("done_at", { withTimezone: true }),
  },
  (t) => [
    unique("event_action_once").on(t.integrationId, t.eventId, t.actionKey),
    index("event_action_status_created").on(t.status, t.createdAt),
    check("event_action_status", sql`${t.status} in ('pending', 'done', 'dead', 'skipped')`),
  ],
);
