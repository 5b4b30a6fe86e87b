import { sql, type SQL } from "drizzle-orm";
import { recordAudit, systemActor } from "../audit/audit.js";
import { execute, type Database, type Tx } from "../db/database.js";
import { dayPartitions } from "./partitions.js";
import { watermark } from "./rollups.js";

/**
 * Expiry of telemetry by its retention (data point → site → the hub's defaults), in days per
 * resolution. Raw readings go by whole day partitions once a partition is older than the longest
 * raw retention in force and rolled up; what is left past a shorter retention (a data point kept
 * fewer days, the day a cutoff falls in, the default partition) is deleted by rows. Lots under
 * hold are never expired: before a partition is dropped, the readings of held lots' windows on
 * their machines' data points are copied to telemetry_held, and row deletes skip those windows
 * (rollups too). Audit records are never expired. Every run writes one audit row.
 */

export interface RetentionDefaults {
  rawDays: number;
  minuteDays: number;
  hourDays: number;
}

export interface ExpiryRun {
  droppedPartitions: { name: string; rows: number }[];
  rawRowsDeleted: number;
  minuteRowsDeleted: number;
  hourRowsDeleted: number;
  heldRowsCopied: number;
  holdsKept: { lotId: number; code: string }[];
}

const DAY_MS = 86_400_000;

/** Each data point's retention in days, its own policy first, then its site's, then the defaults. */
const effectiveRetention = (d: RetentionDefaults) => sql`effective as (
  select p.id as data_point_id,
         coalesce(own.raw_days, site.raw_days, ${d.rawDays}::int) as raw_days,
         coalesce(own.minute_days, site.minute_days, ${d.minuteDays}::int) as minute_days,
         coalesce(own.hour_days, site.hour_days, ${d.hourDays}::int) as hour_days
  from data_point p
  join machine m on m.id = p.machine_id
  join line l on l.id = m.line_id
  join area a on a.id = l.area_id
  left join retention_policy own on own.data_point_id = p.id
  left join retention_policy site on site.site_id = a.site_id)`;

/** The readings held lots protect: their machine's data points during their window. */
const heldWindows = sql`held as (
  select p.id as data_point_id, l.started_at, coalesce(l.ended_at, 'infinity'::timestamptz) as ended_at
  from lot l join data_point p on p.machine_id = l.machine_id
  where l.on_hold)`;

/** A reading (`minutes` 0) inside a held window, or a bucket of `minutes` overlapping one. */
const isHeld = (alias: "t" | "r", column: "ts" | "bucket", minutes: number) => {
  const start = sql.raw(`${alias}.${column}`);
  const overlaps = minutes === 0 ? sql`${start} >= h.started_at` : sql`${start} + make_interval(mins => ${minutes}) > h.started_at`;
  return sql`exists (select 1 from held h where h.data_point_id = ${sql.raw(alias)}.data_point_id and ${overlaps} and ${start} <= h.ended_at)`;
};

export async function expireTelemetry(database: Database, defaults: RetentionDefaults, now: Date): Promise<ExpiryRun> {
  return database.db.transaction(async (tx) => {
    // Two workers' runs must not drop the same partition or count the same rows twice.
    await execute(tx, sql`select pg_advisory_xact_lock(hashtext('plantgraph.telemetry-expiry'))`);
    const rolledUpTo = (await watermark(tx, "1m")) ?? new Date(0);
    const longestRawDays = await longestRawRetention(tx, defaults);
    const dropBefore = Math.min(now.getTime() - longestRawDays * DAY_MS, rolledUpTo.getTime());

    const run: ExpiryRun = { droppedPartitions: [], rawRowsDeleted: 0, minuteRowsDeleted: 0, hourRowsDeleted: 0, heldRowsCopied: 0, holdsKept: [] };
    const expired = (await dayPartitions(tx)).filter((partition) => partition.to.getTime() <= dropBefore);
    for (const partition of expired) {
      const table = sql.identifier(partition.name);
      run.heldRowsCopied += (
        await execute(
          tx,
          sql`with ${heldWindows}
              insert into telemetry_held (data_point_id, ts, value, quality)
              select t.data_point_id, t.ts, t.value, t.quality from ${table} t
              join held h on h.data_point_id = t.data_point_id and t.ts >= h.started_at and t.ts <= h.ended_at
              on conflict do nothing`,
        )
      ).rowCount;
      const { rows } = await execute<{ n: number }>(tx, sql`select count(*)::int as n from ${table}`);
      run.droppedPartitions.push({ name: partition.name, rows: rows[0]?.n ?? 0 });
    }

    // Rows the drops below do not take: past their point's retention, in partitions that stay
    // (readings of dropped days that arrived late sit in the default partition).
    const keptFrom = (expired.at(-1)?.to ?? new Date(0)).toISOString();
    const at = sql`${now.toISOString()}::timestamptz`;
    const deleteRaw = async (table: string, range: SQL) =>
      (
        await execute(
          tx,
          sql`with ${effectiveRetention(defaults)}, ${heldWindows}
              delete from ${sql.identifier(table)} t using effective e
              where t.data_point_id = e.data_point_id and t.ts < ${at} - make_interval(days => e.raw_days)
                and ${range} and t.ts < ${rolledUpTo.toISOString()} and not ${isHeld("t", "ts", 0)}`,
        )
      ).rowCount;
    run.rawRowsDeleted = (await deleteRaw("telemetry", sql`t.ts >= ${keptFrom}`)) + (await deleteRaw("telemetry_default", sql`t.ts < ${keptFrom}`));
    run.minuteRowsDeleted = await expireRollup(tx, defaults, at, { table: "telemetry_rollup_1m", days: "minute_days", minutes: 1 });
    run.hourRowsDeleted = await expireRollup(tx, defaults, at, { table: "telemetry_rollup_1h", days: "hour_days", minutes: 60 });
    const { rows: holds } = await execute<{ id: number | string; code: string }>(tx, sql`select id, code from lot where on_hold order by id`);
    run.holdsKept = holds.map((h) => ({ lotId: Number(h.id), code: h.code }));

    await recordAudit(tx, {
      actor: systemActor("retention"),
      action: "telemetry.expired",
      entityType: "telemetry",
      entityId: now.toISOString(),
      newValue: { ...run, defaults, rolledUpTo: rolledUpTo.toISOString() },
    });
    // Last, after the audit row (same transaction): dropping a partition locks the whole table
    // against the hot path's inserts until commit.
    for (const partition of expired) await execute(tx, sql`drop table ${sql.identifier(partition.name)}`);
    return run;
  });
}

/** Deletes a rollup's buckets older than each point's retention for it, except in held windows. */
async function expireRollup(
  tx: Tx,
  defaults: RetentionDefaults,
  at: SQL,
  rollup: { table: "telemetry_rollup_1m" | "telemetry_rollup_1h"; days: "minute_days" | "hour_days"; minutes: number },
): Promise<number> {
  const { rowCount } = await execute(
    tx,
    sql`with ${effectiveRetention(defaults)}, ${heldWindows}
        delete from ${sql.identifier(rollup.table)} r using effective e
        where r.data_point_id = e.data_point_id and r.bucket < ${at} - make_interval(days => e.${sql.raw(rollup.days)})
          and not ${isHeld("r", "bucket", rollup.minutes)}`,
  );
  return rowCount;
}

/** The longest raw retention any data point has; the defaults' while there are no data points. */
async function longestRawRetention(tx: Tx, defaults: RetentionDefaults): Promise<number> {
  const { rows } = await execute<{ days: number | null }>(
    tx,
    sql`with ${effectiveRetention(defaults)} select max(raw_days)::int as days from effective`,
  );
  return rows[0]?.days ?? defaults.rawDays;
}
