import { sql } from "drizzle-orm";
import { check, doublePrecision, integer, pgTable, primaryKey, serial, smallint, text, timestamp, unique } from "drizzle-orm/pg-core";
import { dataPoints, sites } from "./assets.js";
import { readingColumns } from "./telemetry.js";

// Telemetry's life after the hot path: rollups, retention policies, and readings kept for held lots.

/**
 * How long a site's or a data point's readings live, in days, per resolution; a null keeps the next
 * level's value (data point → site → the hub's configuration). Exactly one of site and data point.
 */
export const retentionPolicies = pgTable(
  "retention_policy",
  {
    id: serial("id").primaryKey(),
    siteId: integer("site_id").references(() => sites.id, { onDelete: "cascade" }),
    dataPointId: integer("data_point_id").references(() => dataPoints.id, { onDelete: "cascade" }),
    rawDays: integer("raw_days"),
    minuteDays: integer("minute_days"),
    hourDays: integer("hour_days"),
  },
  (t) => [
    unique("retention_policy_site").on(t.siteId),
    unique("retention_policy_data_point").on(t.dataPointId),
    check("retention_policy_one_scope", sql`(${t.siteId} is null) <> (${t.dataPointId} is null)`),
  ],
);

/** min, max, sum, count, the worst quality, the first and the last reading of one data point in one bucket. */
const rollupTable = (name: string) =>
  pgTable(
    name,
    {
      dataPointId: integer("data_point_id").notNull(),
      bucket: timestamp("bucket", { withTimezone: true }).notNull(),
      min: doublePrecision("min").notNull(),
      max: doublePrecision("max").notNull(),
      sum: doublePrecision("sum").notNull(),
      count: integer("count").notNull(),
      quality: smallint("quality").notNull().default(0),
      firstValue: doublePrecision("first_value").notNull(),
      firstTs: timestamp("first_ts", { withTimezone: true, precision: 3 }).notNull(),
      lastValue: doublePrecision("last_value").notNull(),
      lastTs: timestamp("last_ts", { withTimezone: true, precision: 3 }).notNull(),
    },
    (t) => [primaryKey({ name: `${name}_pkey`, columns: [t.dataPointId, t.bucket] })],
  );

export const telemetryRollupMinute = rollupTable("telemetry_rollup_1m");
export const telemetryRollupHour = rollupTable("telemetry_rollup_1h");

/** How far each rollup has been computed: every bucket before `up_to` is complete. */
export const rollupWatermarks = pgTable("rollup_watermark", {
  resolution: text("resolution").primaryKey(),
  upTo: timestamp("up_to", { withTimezone: true }).notNull(),
});

/**
 * Readings of held lots' windows, copied here before the partition holding them is dropped. Same
 * shape as telemetry; traces read both.
 */
export const telemetryHeld = pgTable(
  "telemetry_held",
  readingColumns(),
  (t) => [primaryKey({ name: "telemetry_held_pkey", columns: [t.dataPointId, t.ts] })],
);
