import { sql } from "drizzle-orm";
import {
  bigserial,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

/**
 * One row per reading. (data_point_id, ts) is the primary key: it is the idempotency key of a
 * redelivered QoS 1 message and the index every series and bucket query walks. No foreign key:
 * the hot path should not pay a lookup per row; deleting a data point deletes its rows explicitly.
 * In the database the table is partitioned by day on `ts` (migration 0003, hand-written part):
 * drizzle cannot declare partitioning, so this definition stays the plain table's, which keeps
 * `db:generate` from ever trying to recreate it.
 */
export const telemetry = pgTable("telemetry", readingColumns(), (t) => [primaryKey({ name: "telemetry_pkey", columns: [t.dataPointId, t.ts] })]);

/** The columns of a stored reading (telemetry, and the copies kept for held lots). */
export function readingColumns() {
  return {
    dataPointId: integer("data_point_id").notNull(),
    ts: timestamp("ts", { withTimezone: true, precision: 3 }).notNull(),
    value: doublePrecision("value").notNull(),
    /** 0 good, 1 uncertain, 2 bad. */
    quality: smallint("quality").notNull().default(0),
  };
}

/** Messages the hub could not turn into readings, kept with the reason so nothing vanishes. */
export const quarantine = pgTable(
  "quarantine",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().default(sql`now()`),
    source: text("source").notNull(),
    topic: text("topic").notNull(),
    payload: text("payload").notNull(),
    reason: text("reason").notNull(),
    detail: text("detail").notNull(),
    dataPointId: integer("data_point_id"),
  },
  (t) => [index("quarantine_reason_id").on(t.reason, t.id)],
);
