import type { DbOrTx } from "../db/database.js";
import { rawSql } from "../db/raw-sql.js";
import { idealCycleSeconds, type EffectiveStateConfig } from "./state-config.js";

/** Hours with less running than this give no cycle time sample: a few parts would swing it. */
export const MIN_RUNNING_SECONDS = 1_800;
/** Slower than ideal by more than this share, over at least MIN_SAMPLES hours: flagged. */
export const SLOWER_TOLERANCE = 0.05;
export const MIN_SAMPLES = 3;

export interface CycleTimeStats {
  product: string;
  samples: number;
  medianSeconds: number;
  p90Seconds: number;
  idealSeconds?: number;
  /** The median runs persistently slower than the ideal cycle time. */
  slower: boolean;
}

/**
 * The actual cycle time distribution of a machine per product over [from, to): one sample per
 * hour of the rollups with at least half an hour of running and a single product, running
 * seconds / parts produced. Median and p90 (nearest rank) against the ideal cycle time.
 */
export async function cycleTimes(db: DbOrTx, machineId: number, config: EffectiveStateConfig, from: number, to: number): Promise<CycleTimeStats[]> {
  const result = await db.execute(
    rawSql(
      `with run as (
         select bucket, sum(seconds) as seconds from machine_state_rollup
          where machine_id = $1 and grain_seconds = 3600 and state = 'running' and bucket >= to_timestamp($2 / 1000.0) and bucket < to_timestamp($3 / 1000.0)
          group by bucket),
       made as (
         select bucket, min(product) as product, sum(produced) as produced, count(*) as products from production_count
          where machine_id = $1 and grain_seconds = 3600 and produced > 0 and bucket >= to_timestamp($2 / 1000.0) and bucket < to_timestamp($3 / 1000.0)
          group by bucket)
       select made.product, (run.seconds / made.produced)::float8 as cycle
         from made join run using (bucket)
        where made.products = 1 and run.seconds >= $4`,
      [machineId, from, to, MIN_RUNNING_SECONDS],
    ),
  );
  const byProduct = new Map<string, number[]>();
  for (const row of (result as unknown as { rows: { product: string; cycle: number }[] }).rows) {
    byProduct.set(row.product, [...(byProduct.get(row.product) ?? []), Number(row.cycle)]);
  }
  return [...byProduct.entries()]
    .map(([product, cycles]) => {
      const sorted = cycles.sort((a, b) => a - b);
      const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
      const median = rank(0.5);
      const ideal = idealCycleSeconds(config, product);
      const slower = ideal !== undefined && sorted.length >= MIN_SAMPLES && median > ideal * (1 + SLOWER_TOLERANCE);
      return { product, samples: sorted.length, medianSeconds: median, p90Seconds: rank(0.9), idealSeconds: ideal, slower };
    })
    .sort((a, b) => a.product.localeCompare(b.product));
}
