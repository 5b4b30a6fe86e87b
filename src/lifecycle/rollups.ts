import { sql, type SQL } from "drizzle-orm";
import { execute, type Database, type DbOrTx } from "../db/database.js";
import { floorTo, HOUR_MS, MINUTE_MS } from "../telemetry/time-steps.js";

/**
 * 1-minute rollups of raw telemetry and 1-hour rollups of those, maintained incrementally over a
 * watermark: each run recomputes whole buckets from their source and upserts them, so running it
 * twice, or two workers at once, gives the same rows. A reading arriving up to
 * ROLLUP_LATE_MARGIN_SECONDS after its minute was rolled up is still counted on the next run;
 * later ones stay in the raw table only.
 */

export const ROLLUP_LATE_MARGIN_SECONDS = 300;
/** Each statement covers at most this much source time, so a first run over a long history stays bounded. */
const SLICE_MS = 86_400_000;

const EPOCH = sql`timestamptz '1970-01-01 00:00:00+00'`;

const UPSERT = sql`on conflict (data_point_id, bucket) do update set
  min = excluded.min, max = excluded.max, sum = excluded.sum, count = excluded.count, quality = excluded.quality,
  first_value = excluded.first_value, first_ts = excluded.first_ts, last_value = excluded.last_value, last_ts = excluded.last_ts`;

const minuteBuckets = (from: Date, to: Date) => sql`
  insert into telemetry_rollup_1m (data_point_id, bucket, min, max, sum, count, quality, first_value, first_ts, last_value, last_ts)
  select data_point_id, date_bin(interval '1 minute', ts, ${EPOCH}), min(value), max(value), sum(value), count(*)::int, max(quality),
         (array_agg(value order by ts))[1], min(ts), (array_agg(value order by ts desc))[1], max(ts)
  from telemetry where ts >= ${from.toISOString()} and ts < ${to.toISOString()}
  group by 1, 2
  ${UPSERT}`;

const hourBuckets = (from: Date, to: Date) => sql`
  insert into telemetry_rollup_1h (data_point_id, bucket, min, max, sum, count, quality, first_value, first_ts, last_value, last_ts)
  select data_point_id, date_bin(interval '1 hour', bucket, ${EPOCH}), min(min), max(max), sum(sum), sum(count)::int, max(quality),
         (array_agg(first_value order by first_ts))[1], min(first_ts), (array_agg(last_value order by last_ts desc))[1], max(last_ts)
  from telemetry_rollup_1m where bucket >= ${from.toISOString()} and bucket < ${to.toISOString()}
  group by 1, 2
  ${UPSERT}`;

export interface RollupRun {
  minuteBuckets: number;
  hourBuckets: number;
  /** Every minute before this is rolled up (null: no telemetry yet). */
  minuteUpTo: Date | null;
  hourUpTo: Date | null;
}

export async function runRollups(database: Database, now: Date): Promise<RollupRun> {
  const { db } = database;
  const minuteTo = floorTo(now, MINUTE_MS);
  const minuteFrom = await startOf(db, "1m", ROLLUP_LATE_MARGIN_SECONDS * 1000, sql`select min(ts) as first from telemetry`);
  const minute = minuteFrom && (await rollUp(db, "1m", minuteFrom, minuteTo, minuteBuckets));

  // An hour is complete once the minute rollup has passed its end.
  const hourTo = floorTo(minute?.upTo ?? (await watermark(db, "1m")) ?? new Date(0), HOUR_MS);
  const hourFrom = await startOf(db, "1h", HOUR_MS, sql`select min(bucket) as first from telemetry_rollup_1m`);
  const hour = hourFrom && hourFrom < hourTo ? await rollUp(db, "1h", hourFrom, hourTo, hourBuckets) : undefined;
  return {
    minuteBuckets: minute?.buckets ?? 0,
    hourBuckets: hour?.buckets ?? 0,
    minuteUpTo: minute?.upTo ?? null,
    hourUpTo: hour?.upTo ?? (await watermark(db, "1h")),
  };
}

/** How far a rollup is complete; undefined before its first run. */
export async function watermark(db: DbOrTx, resolution: "1m" | "1h"): Promise<Date | null> {
  const { rows } = await execute<{ up_to: Date | string }>(db, sql`select up_to from rollup_watermark where resolution = ${resolution}`);
  return rows[0] ? new Date(rows[0].up_to) : null;
}

/** Where a run starts: `margin` before the watermark, or the first source row on the first run. */
async function startOf(db: DbOrTx, resolution: "1m" | "1h", marginMs: number, firstSource: SQL): Promise<Date | undefined> {
  const mark = await watermark(db, resolution);
  if (mark) return new Date(mark.getTime() - marginMs);
  const { rows } = await execute<{ first: Date | string | null }>(db, firstSource);
  const first = rows[0]?.first;
  return first == null ? undefined : floorTo(new Date(first), resolution === "1m" ? MINUTE_MS : HOUR_MS);
}

async function rollUp(
  db: DbOrTx,
  resolution: "1m" | "1h",
  from: Date,
  to: Date,
  statement: (from: Date, to: Date) => SQL,
): Promise<{ buckets: number; upTo: Date }> {
  let buckets = 0;
  for (let start = from; start < to; start = new Date(start.getTime() + SLICE_MS)) {
    const end = new Date(Math.min(start.getTime() + SLICE_MS, to.getTime()));
    buckets += (await execute(db, statement(start, end))).rowCount;
  }
  await execute(
    db,
    sql`insert into rollup_watermark (resolution, up_to) values (${resolution}, ${to.toISOString()})
        on conflict (resolution) do update set up_to = greatest(rollup_watermark.up_to, excluded.up_to)`,
  );
  return { buckets, upTo: to };
}
