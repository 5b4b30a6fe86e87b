import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, doublePrecision, index, integer, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";
import { machines } from "./assets.js";

// Lots (batches) and their genealogy: what ran on which machine, made from which lots, how it tested.

export const lotStatuses = ["running", "ended"] as const;
export type LotStatus = (typeof lotStatuses)[number];

/**
 * A lot made on one machine between `started_at` and `ended_at`. The machine's path is kept beside
 * its id so a trace still names the machine after it was deleted. `on_hold` puts the lot and its
 * machine's readings during its window under retention hold: expiry never removes them.
 */
export const lots = pgTable(
  "lot",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** The lot number people and labels use. */
    code: text("code").notNull().unique(),
    machineId: integer("machine_id").references(() => machines.id, { onDelete: "set null" }),
    machinePath: text("machine_path").notNull(),
    product: text("product"),
    status: text("status", { enum: lotStatuses }).notNull().default("running"),
    startedAt: timestamp("started_at", { withTimezone: true, precision: 3 }).notNull(),
    startedBy: text("started_by").notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true, precision: 3 }),
    endedBy: text("ended_by"),
    quantity: doublePrecision("quantity"),
    unit: text("unit"),
    onHold: boolean("on_hold").notNull().default(false),
    holdReason: text("hold_reason"),
    holdChangedBy: text("hold_changed_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("lot_machine_started").on(t.machineId, t.startedAt),
    index("lot_on_hold").on(t.onHold).where(sql`${t.onHold}`),
    check("lot_status", sql`${t.status} in ('running', 'ended')`),
    check("lot_window", sql`${t.endedAt} is null or ${t.endedAt} >= ${t.startedAt}`),
  ],
);

/** A parent lot consumed into a lot: the edges of the genealogy. */
export const lotComponents = pgTable(
  "lot_component",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    lotId: bigint("lot_id", { mode: "number" })
      .notNull()
      .references(() => lots.id, { onDelete: "cascade" }),
    parentLotId: bigint("parent_lot_id", { mode: "number" })
      .notNull()
      .references(() => lots.id, { onDelete: "restrict" }),
    quantity: doublePrecision("quantity"),
    unit: text("unit"),
    consumedAt: timestamp("consumed_at", { withTimezone: true, precision: 3 }).notNull(),
    recordedBy: text("recorded_by").notNull(),
  },
  (t) => [
    unique("lot_component_once").on(t.lotId, t.parentLotId),
    index("lot_component_parent").on(t.parentLotId),
    check("lot_component_not_itself", sql`${t.lotId} <> ${t.parentLotId}`),
  ],
);

/** A quality measurement or inspection of a lot. */
export const qualityResults = pgTable(
  "quality_result",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    lotId: bigint("lot_id", { mode: "number" })
      .notNull()
      .references(() => lots.id, { onDelete: "cascade" }),
    characteristic: text("characteristic").notNull(),
    value: doublePrecision("value"),
    unit: text("unit"),
    passed: boolean("passed").notNull(),
    note: text("note"),
    recordedAt: timestamp("recorded_at", { withTimezone: true, precision: 3 }).notNull(),
    recordedBy: text("recorded_by").notNull(),
  },
  (t) => [index("quality_result_lot").on(t.lotId, t.recordedAt)],
);
