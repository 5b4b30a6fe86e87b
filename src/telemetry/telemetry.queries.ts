import type { Database } from "../db/database.js";
import { qualityFromCode, type Quality } from "./sample.js";

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
 * in a bucket is its quality. Empty buckets are absent, which shows gaps as gaps.
 */
export async function bucketSeries(
  database: Database,
  dataPointId: number,
  range: { from: Date; to: Date; bucketSeconds: number },
): Promise<SeriesPoint[]> {
  const { rows } = await database.query<{ bucket: Date | string; avg: number; min: number; max: number; count: number; quality: number }>(
    `select date_bin(make_interval(secs => $4), ts, timestamptz '1970-01-01 00:00:00+00') as bucket,
            avg(value) as avg, min(value) as min, max(value) as max, count(*)::int as count, max(quality) as quality
     from telemetry
     where data_point_id = $1 and ts >= $2 and ts < $3
     group by bucket order by bucket`,
    [dataPointId, range.from.toISOString(), range.to.toISOString(), range.bucketSeconds],
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
