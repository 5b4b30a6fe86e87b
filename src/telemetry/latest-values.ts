import type { Bus } from "../bus/bus.js";
import type { Database } from "../db/database.js";
import { qualityFromCode, type Quality, type Sample } from "./sample.js";

export interface LatestValue {
  value: number;
  ts: Date;
  quality: Quality;
}

const LATEST_SQL = `
select p.id as data_point_id, t.ts, t.value, t.quality
from unnest($1::int4[]) as p(id)
cross join lateral (
  select ts, value, quality from telemetry where data_point_id = p.id order by ts desc limit 1
) t`;

/** Latest value per data point straight from the telemetry table (one index probe each). */
export async function loadLatestValues(database: Database, ids: readonly number[]): Promise<Map<number, LatestValue>> {
  const { rows } = await database.query<{ data_point_id: number; ts: Date | string; value: number; quality: number }>(
    LATEST_SQL,
    [[...ids]],
  );
  return new Map(
    rows.map((r) => [r.data_point_id, { value: r.value, ts: new Date(r.ts), quality: qualityFromCode(r.quality) }]),
  );
}

/**
 * Latest-value cache of a process that ingests: fed by committed samples on the bus, filled from
 * the database on a miss. A process that does not ingest reads the database every time instead,
 * since nothing would keep its cache current.
 */
export class LatestValues {
  private readonly cache = new Map<number, LatestValue>();

  constructor(
    private readonly database: Database,
    bus: Bus | undefined,
  ) {
    bus?.on("latest-values", "samplesStored", (samples) => this.observe(samples));
    this.cached = bus !== undefined;
  }

  private readonly cached: boolean;

  observe(samples: readonly Sample[]): void {
    for (const s of samples) {
      const current = this.cache.get(s.dataPointId);
      if (!current || current.ts.getTime() <= s.ts) {
        this.cache.set(s.dataPointId, { value: s.value, ts: new Date(s.ts), quality: s.quality });
      }
    }
  }

  async get(ids: readonly number[]): Promise<(LatestValue | undefined)[]> {
    if (!this.cached) {
      const loaded = await loadLatestValues(this.database, ids);
      return ids.map((id) => loaded.get(id));
    }
    const missing = ids.filter((id) => !this.cache.has(id));
    if (missing.length > 0) {
      const loaded = await loadLatestValues(this.database, missing);
      for (const [id, value] of loaded) if (!this.cache.has(id)) this.cache.set(id, value);
    }
    return ids.map((id) => this.cache.get(id));
  }
}
