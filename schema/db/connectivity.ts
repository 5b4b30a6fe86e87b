import { boolean, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { machines } from "./assets.js";

/**
 * Whether a machine's source says it is connected (a Sparkplug edge node or device born or dead).
 * Written by the ingest process on every birth and death; read by every replica's machine state.
 */
export const machineConnectivity = pgTable("machine_connectivity", {
  machineId: integer("machine_id")
    .primaryKey()
    .references(() => machines.id, { onDelete: "cascade" }),
  online: boolean("online").notNull(),
  /** e.g. "sparkplug NDEATH acme/press-line/press-1". */
  reason: text("reason").notNull(),
  changedAt: timestamp("changed_at", { withTimezone: true, precision: 3 }).notNull(),
});
