import { sql } from "drizzle-orm";
import { execute, type DbOrTx } from "../db/database.js";

/**
 * The telemetry table is partitioned by UTC day (`telemetry_pYYYYMMDD`, see migration 0003's
 * hand-written part) with a default partition for readings outside every day partition. Partitions
 * are made ahead, so the hot path's inserts always find theirs; expiry drops whole days.
 */

/** Day partitions kept ready ahead of today. */
export const PARTITION_DAYS_AHEAD = 7;

const DAY_MS = 86_400_000;
const PARTITION_NAME = /^telemetry_p(\d{4})(\d{2})(\d{2})$/;

export interface DayPartition {
  name: string;
  /** Inclusive start and exclusive end of its UTC day. */
  from: Date;
  to: Date;
}

/** Ensures partitions from yesterday to `daysAhead` days after `now`; returns how many it created. */
export async function ensureTelemetryPartitions(db: DbOrTx, now: Date, daysAhead = PARTITION_DAYS_AHEAD): Promise<number> {
  const today = now.toISOString().slice(0, 10);
  const { rows } = await execute<{ created: number }>(
    db,
    sql`select count(*) filter (where telemetry_ensure_day_partition(day::date))::int as created
        from generate_series(${today}::date - 1, ${today}::date + ${daysAhead}::int, interval '1 day') as day`,
  );
  return rows[0]?.created ?? 0;
}

/** The day partitions of telemetry, oldest first (the default partition is not one of them). */
export async function dayPartitions(db: DbOrTx): Promise<DayPartition[]> {
  const { rows } = await execute<{ name: string }>(
    db,
    sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'telemetry'::regclass`,
  );
  return rows
    .flatMap(({ name }) => {
      const match = PARTITION_NAME.exec(name);
      if (!match) return [];
      const from = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`);
      return [{ name, from, to: new Date(from.getTime() + DAY_MS) }];
    })
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}
