import type { Database } from "../db/database.js";
import { qualityFromCode, type Quality } from "./sample.js";
import { ceilTo, floorTo, HOUR_MS, MINUTE_MS } from "./time-steps.js";

export interface SeriesPoint {
  ts: Date;
  value: number;
  min: number;
  max: number;
  count: number;
  quality: Quality;
}

export const MAX_SERIES_POINTS = 10_000;

/** Raw readings of one data point in [from, to), oldest first. */
export async function rawSeries(
  database: Database,
  dataPointId: number,
  range: { from: Date; to: Date; limit: number },
): Promise<SeriesPoint[]> {
  const { rows } = await database.query<{ ts: Date | string; value: number; quality: number }>(
    `select ts, value, quality from telemetry
     where data_point_id = $1 and ts >= $2 and ts < $3
     order by ts limit $4`,
    [dataPointId, range.from.toISOString(), range.to.toISOString(), range.limit],
  );
  return rows.map((r) => ({
    ts: new Date(r.ts),
    value: r.value,
    min: r.value,
    max: r.value,
    count: 1,
    quality: qualityFromCode(r.quality),
  }));
}

/**
 * Time buckets aligned to the epoch: avg as `value`, with min, max and count. The worst quality
 * in a bucket is its quality. Empty buckets are absent, which shows gaps as gaps. Buckets made of
 * whole hours (or minutes) are read from the 1-hour (1-minute) rollups as far as those are
 * complete, and from raw readings before and after, so long ranges stay cheap and outlive the raw
 * readings' retention.
 */
export async function bucketSeries(
  database: Database,
  dataPointId: number,
  range: { from: Date; to: Date; bucketSeconds: number },
): Promise<SeriesPoint[]> {
  const rollup = rollupFor(range.bucketSeconds);
  const params: unknown[] = [dataPointId, range.from.toISOString(), range.to.toISOString(), range.bucketSeconds];
  let source = `select ts, value as min, value as max, value as sum, 1 as count, quality from telemetry
                where data_point_id = $1 and ts >= $2 and ts < $3`;
  if (rollup) {
    // Rollup buckets wholly inside [from, to) and before the watermark; raw readings elsewhere.
    params.push(rollup.resolution, ceilTo(range.from, rollup.ms).toISOString(), floorTo(range.to, rollup.ms).toISOString());
    source = `with bounds as (
                select $6::timestamptz as r_from,
                       least($7::timestamptz, coalesce((select up_to from rollup_watermark where resolution = $5), '-infinity')) as r_to
              )
              select r.bucket as ts, r.min, r.max, r.sum, r.count, r.quality from ${rollup.table} r, bounds b
              where r.data_point_id = $1 and r.bucket >= b.r_from and r.bucket < b.r_to
              union all
              select t.ts, t.value, t.value, t.value, 1, t.quality from telemetry t, bounds b
              where t.data_point_id = $1 and t.ts >= $2 and t.ts < $3 and (b.r_to <= b.r_from or t.ts < b.r_from or t.ts >= b.r_to)`;
  }
  const { rows } = await database.query<{ bucket: Date | string; avg: number; min: number; max: number; count: number; quality: number }>(
    `select date_bin(make_interval(secs => $4), ts, timestamptz '1970-01-01 00:00:00+00') as bucket,
            sum(sum) / sum(count) as avg, min(min) as min, max(max) as max, sum(count)::int as count, max(quality) as quality
     from (${source}) as parts
     group by bucket order by bucket`,
    params,
  );
  return rows.map((r) => ({
    ts: new Date(r.bucket),
    value: r.avg,
    min: r.min,
    max: r.max,
    count: r.count,
    quality: qualityFromCode(r.quality),
  }));
}

const ROLLUPS = [
  { resolution: "1h", table: "telemetry_rollup_1h", ms: HOUR_MS },
  { resolution: "1m", table: "telemetry_rollup_1m", ms: MINUTE_MS },
] as const;

/** The coarsest rollup whose buckets nest in buckets of this size. */
const rollupFor = (bucketSeconds: number) => ROLLUPS.find((r) => (bucketSeconds * 1000) % r.ms === 0);
