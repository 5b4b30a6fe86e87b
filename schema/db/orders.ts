import { sql } from "drizzle-orm";
import { boolean, check, doublePrecision, index, integer, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";
import { lines, machines } from "./assets.js";

export const orderStatuses = ["planned", "in_progress", "completed", "cancelled"] as const;
export type OrderStatus = (typeof orderStatuses)[number];

/**
 * A production order: a quantity of a product due at a time, on a machine (or a line, whose
 * machines share it). Progress comes from the machine's counters; the projection from its actual
 * rate and the shift calendar.
 */
export const productionOrders = pgTable(
  "production_order",
  {
    id: serial("id").primaryKey(),
    number: text("number").notNull().unique(),
    product: text("product").notNull(),
    quantity: integer("quantity").notNull(),
    dueAt: timestamp("due_at", { withTimezone: true }).notNull(),
    machineId: integer("machine_id").references(() => machines.id, { onDelete: "set null" }),
    lineId: integer("line_id").references(() => lines.id, { onDelete: "set null" }),
    /** Order in the machine's queue: lower runs first (then due date, then id). */
    sequence: integer("sequence").notNull().default(0),
    status: text("status", { enum: orderStatuses }).notNull().default("planned"),
    produced: doublePrecision("produced").notNull().default(0),
    good: doublePrecision("good").notNull().default(0),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    projectedCompletionAt: timestamp("projected_completion_at", { withTimezone: true }),
    atRisk: boolean("at_risk").notNull().default(false),
    riskReason: text("risk_reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("production_order_machine_status").on(t.machineId, t.status),
    index("production_order_line_status").on(t.lineId, t.status),
    check("production_order_quantity", sql`${t.quantity} > 0`),
    check("production_order_status", sql`${t.status} in ('planned', 'in_progress', 'completed', 'cancelled')`),
  ],
);
