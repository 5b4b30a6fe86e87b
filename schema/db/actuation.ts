import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, doublePrecision, index, integer, jsonb, pgTable, serial, text, timestamp, unique } from "drizzle-orm/pg-core";
import { dataPoints, machines } from "./assets.js";
import { events } from "./events.js";

/** How a command reaches the machine: a plain MQTT topic (JSON), Sparkplug DCMD/NCMD, or OPC UA. */
export const commandTransports = ["mqtt", "sparkplug", "opcua"] as const;
export type CommandTransport = (typeof commandTransports)[number];

/**
 * A writable data point (a setpoint) and the limits every write must keep. No row: not writable.
 * Declared in the plant file under the point's `actuation:`.
 */
export const actuationLimits = pgTable(
  "actuation_limit",
  {
    dataPointId: integer("data_point_id")
      .primaryKey()
      .references(() => dataPoints.id, { onDelete: "cascade" }),
    transport: text("transport", { enum: commandTransports }).notNull(),
    /** The plain MQTT command topic (transport mqtt). */
    commandTopic: text("command_topic"),
    min: doublePrecision("min"),
    max: doublePrecision("max"),
    /** Largest change from the current value in one write. */
    maxStep: doublePrecision("max_step"),
    /** Shortest time between two writes sent to this point. */
    minIntervalMs: integer("min_interval_ms"),
    /** A write waits for a second person's approval. */
    critical: boolean("critical").notNull().default(false),
    /** Automations may write this point (still through the same limits and approvals). */
    allowAutomation: boolean("allow_automation").notNull().default(false),
    /** Read-back within this much of the written value confirms it. */
    tolerance: doublePrecision("tolerance").notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("actuation_limit_transport", sql`${t.transport} in ('mqtt', 'sparkplug', 'opcua')`),
    check("actuation_limit_range", sql`${t.min} is null or ${t.max} is null or ${t.min} <= ${t.max}`),
  ],
);

/**
 * Where a machine method is called: `{ topic }` (plain MQTT), `{ group, node, device?, metric }`
 * (Sparkplug: the metric is set true) or, for OPC UA, `{ objectId, methodId }`. Validated by
 * src/actuation/actuation.rules.ts.
 */
export type MethodAddress = Record<string, string>;

/** A command a machine offers (reset a counter, start, stop): declared under the machine's `methods:`. */
export const machineMethods = pgTable(
  "machine_method",
  {
    id: serial("id").primaryKey(),
    machineId: integer("machine_id")
      .notNull()
      .references(() => machines.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    transport: text("transport", { enum: commandTransports }).notNull(),
    address: jsonb("address").$type<MethodAddress>().notNull(),
    minIntervalMs: integer("min_interval_ms"),
    critical: boolean("critical").notNull().default(false),
    allowAutomation: boolean("allow_automation").notNull().default(false),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("machine_method_machine_name").on(t.machineId, t.name),
    check("machine_method_transport", sql`${t.transport} in ('mqtt', 'sparkplug', 'opcua')`),
  ],
);

export const actuationStatuses = ["pending_approval", "approved", "refused", "dry_run", "sent", "confirmed", "mismatch", "failed"] as const;
export type ActuationStatus = (typeof actuationStatuses)[number];

/**
 * One attempt to write a setpoint or call a machine method, from request to result. Its audit
 * rows (actuation.*) tell the same story step by step, with the values before and after.
 */
export const actuationRequests = pgTable(
  "actuation_request",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    machineId: integer("machine_id")
      .notNull()
      .references(() => machines.id, { onDelete: "cascade" }),
    /** A setpoint write: the point and its value. */
    dataPointId: integer("data_point_id").references(() => dataPoints.id, { onDelete: "cascade" }),
    value: doublePrecision("value"),
    /** A method call: the method and its arguments. */
    methodId: integer("method_id").references(() => machineMethods.id, { onDelete: "cascade" }),
    arguments: jsonb("arguments").$type<Record<string, unknown>>(),
    dryRun: boolean("dry_run").notNull().default(false),
    status: text("status", { enum: actuationStatuses }).notNull(),
    /** "user:<sub>", "key:<id>" or "system:automation:<id>". */
    requestedBy: text("requested_by").notNull(),
    reason: text("reason").notNull(),
    /** The event whose automation asked for this write. */
    eventId: bigint("event_id", { mode: "number" }).references(() => events.id, { onDelete: "set null" }),
    decidedBy: text("decided_by"),
    decidedAt: timestamp("decided_at", { withTimezone: true, precision: 3 }),
    /** The point's latest value when the request was checked, and what the read-back found. */
    beforeValue: doublePrecision("before_value"),
    afterValue: doublePrecision("after_value"),
    /** Why it was refused or failed, or what the read-back saw. */
    detail: text("detail"),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    sentAt: timestamp("sent_at", { withTimezone: true, precision: 3 }),
    finishedAt: timestamp("finished_at", { withTimezone: true, precision: 3 }),
  },
  (t) => [
    index("actuation_request_point_sent").on(t.dataPointId, t.sentAt),
    index("actuation_request_status").on(t.status, t.id),
    check("actuation_request_target", sql`(${t.dataPointId} is null) <> (${t.methodId} is null) and (${t.dataPointId} is null) = (${t.value} is null)`),
    index("actuation_request_method_sent").on(t.methodId, t.sentAt),
    check(
      "actuation_request_status",
      sql`${t.status} in ('pending_approval', 'approved', 'refused', 'dry_run', 'sent', 'confirmed', 'mismatch', 'failed')`,
    ),
  ],
);
