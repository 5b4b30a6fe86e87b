import { sql } from "drizzle-orm";
import {
  bigserial,
  check,
  doublePrecision,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { machines } from "./assets.js";

// Machine state intervals, their rollups and production counts: the inputs of ISO 22400 KPIs.

/** The states a machine can be in, exactly one at a time. */
export const machineStates = ["running", "idle", "down", "maintenance", "setup", "offline", "planned_stop"] as const;
export type MachineState = (typeof machineStates)[number];

/** How a machine's state and counts are read from its data points (validated by src/availability/state-config.ts). */
export const machineStateConfigs = pgTable("machine_state_config", {
  machineId: integer("machine_id")
    .primaryKey()
    .references(() => machines.id, { onDelete: "cascade" }),
  config: jsonb("config").$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * One row per stretch of time a machine spent in one state. A machine's intervals tile time: each
 * starts where the previous ended, and only the last is open (ended_at null).
 */
export const machineStateIntervals = pgTable(
  "machine_state_interval",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    machineId: integer("machine_id")
      .notNull()
      .references(() => machines.id, { onDelete: "cascade" }),
    state: text("state", { enum: machineStates }).notNull(),
    /** Downtime reason code, from the mapping or set by an operator; '' when none. */
    reason: text("reason").notNull().default(""),
    /** What decided the state: a data point name, "task", "calendar", "connectivity", "restart". */
    source: text("source").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true, precision: 3 }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true, precision: 3 }),
    /** For the open interval: the last time the tracker knew it still held (closes it after a crash). */
    confirmedUntil: timestamp("confirmed_until", { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex("machine_state_interval_start").on(t.machineId, t.startedAt),
    uniqueIndex("machine_state_interval_open").on(t.machineId).where(sql`${t.endedAt} is null`),
    check("machine_state_interval_order", sql`${t.endedAt} is null or ${t.endedAt} > ${t.startedAt}`),
  ],
);

/** Seconds per machine, state and reason in hour (3600) and day (86400) buckets of closed intervals. */
export const machineStateRollups = pgTable(
  "machine_state_rollup",
  {
    machineId: integer("machine_id").notNull(),
    grainSeconds: integer("grain_seconds").notNull(),
    bucket: timestamp("bucket", { withTimezone: true }).notNull(),
    state: text("state", { enum: machineStates }).notNull(),
    reason: text("reason").notNull(),
    seconds: doublePrecision("seconds").notNull(),
  },
  (t) => [primaryKey({ name: "machine_state_rollup_pkey", columns: [t.machineId, t.grainSeconds, t.bucket, t.state, t.reason] })],
);

/**
 * Produced, good and scrap quantities per machine and product in minute (60), hour and day
 * buckets. `ideal_seconds` is Σ ideal cycle time × produced, so effectiveness works across products.
 */
export const productionCounts = pgTable(
  "production_count",
  {
    machineId: integer("machine_id").notNull(),
    grainSeconds: integer("grain_seconds").notNull(),
    bucket: timestamp("bucket", { withTimezone: true }).notNull(),
    product: text("product").notNull(),
    produced: doublePrecision("produced").notNull().default(0),
    good: doublePrecision("good").notNull().default(0),
    scrap: doublePrecision("scrap").notNull().default(0),
    idealSeconds: doublePrecision("ideal_seconds").notNull().default(0),
  },
  (t) => [primaryKey({ name: "production_count_pkey", columns: [t.machineId, t.grainSeconds, t.bucket, t.product] })],
);

/**
 * The state rollups summed per line (hour and day buckets), so a line, area or site over 30 days
 * reads a few hundred rows per line instead of those of every machine. Kept with the machine rollups.
 */
export const lineStateRollups = pgTable(
  "line_state_rollup",
  {
    lineId: integer("line_id").notNull(),
    grainSeconds: integer("grain_seconds").notNull(),
    bucket: timestamp("bucket", { withTimezone: true }).notNull(),
    state: text("state", { enum: machineStates }).notNull(),
    reason: text("reason").notNull(),
    seconds: doublePrecision("seconds").notNull(),
  },
  (t) => [primaryKey({ name: "line_state_rollup_pkey", columns: [t.lineId, t.grainSeconds, t.bucket, t.state, t.reason] })],
);

/** Production summed per line in minute, hour and day buckets (all products). */
export const lineProductionCounts = pgTable(
  "line_production_count",
  {
    lineId: integer("line_id").notNull(),
    grainSeconds: integer("grain_seconds").notNull(),
    bucket: timestamp("bucket", { withTimezone: true }).notNull(),
    produced: doublePrecision("produced").notNull().default(0),
    good: doublePrecision("good").notNull().default(0),
    scrap: doublePrecision("scrap").notNull().default(0),
    idealSeconds: doublePrecision("ideal_seconds").notNull().default(0),
  },
  (t) => [primaryKey({ name: "line_production_count_pkey", columns: [t.lineId, t.grainSeconds, t.bucket] })],
);
