import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, integer, jsonb, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";
import { machines } from "./assets.js";
import { alarms, eventActions, events } from "./events.js";
import { integrations } from "./security.js";

// The connector contract owns the task status vocabulary; the table stores exactly it.
import { taskStatuses } from "../../connectors/sdk/types.js";
export { taskStatuses, type TaskStatus } from "../../connectors/sdk/types.js";

/**
 * A task or ticket the hub created in a work tool (or on its own board). UNIQUE(integration, event,
 * action) is the idempotency guard: it is written in the same transaction as the audit row, so a
 * retried job finds the row instead of creating a second ticket.
 */
export const tasks = pgTable(
  "task",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    integrationId: integer("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    eventId: bigint("event_id", { mode: "number" })
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    actionKey: text("action_key").notNull(),
    eventActionId: bigint("event_action_id", { mode: "number" }).references(() => eventActions.id, { onDelete: "set null" }),
    machineId: integer("machine_id").references(() => machines.id, { onDelete: "set null" }),
    alarmId: bigint("alarm_id", { mode: "number" }).references(() => alarms.id, { onDelete: "set null" }),
    /** Our key, stored in the tool so findTask can find the task again. */
    idempotencyKey: text("idempotency_key").notNull(),
    externalId: text("external_id").notNull(),
    externalKey: text("external_key"),
    url: text("url"),
    title: text("title").notNull(),
    assignee: text("assignee"),
    status: text("status", { enum: taskStatuses }).notNull().default("open"),
    externalStatus: text("external_status").notNull(),
    statusChangedAt: timestamp("status_changed_at", { withTimezone: true }).notNull().defaultNow(),
    statusChangedBy: text("status_changed_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("task_once").on(t.integrationId, t.eventId, t.actionKey),
    unique("task_external").on(t.integrationId, t.externalId),
    index("task_machine_status").on(t.machineId, t.status),
    index("task_alarm").on(t.alarmId),
    check("task_status", sql`${t.status} in ('open', 'in_progress', 'done', 'cancelled')`),
  ],
);

export const deliveryStatuses = ["received", "applied", "failed"] as const;

/** An inbound webhook call, stored once verified and before it is applied (answer 202, apply in a worker). */
export const webhookDeliveries = pgTable(
  "webhook_delivery",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    integrationId: integer("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    /** Lower-cased headers without credentials (the signature header stays: it is proof, not a secret). */
    headers: jsonb("headers").$type<Record<string, string>>().notNull(),
    body: text("body").notNull(),
    status: text("status", { enum: deliveryStatuses }).notNull().default("received"),
    changes: integer("changes"),
    error: text("error"),
    appliedAt: timestamp("applied_at", { withTimezone: true }),
  },
  (t) => [index("webhook_delivery_integration_received").on(t.integrationId, t.receivedAt)],
);
