import type { Database, DbOrTx } from "../db/database.js";
import { computeKpis, type Kpis } from "./kpi.js";
import { machineKpiInputs, sumCounts } from "./kpi.queries.js";

/**
 * The KPIs of a set of machines (one, or a line's, area's or site's) over [from, to), cut at `now`.
 * `lines`: the lines whose machines are exactly these, to read their line rollups.
 */
export async function kpisOf(db: DbOrTx | Database, machineIds: readonly number[], from: number, to: number, now: number, lines?: readonly number[]): Promise<Kpis> {
  const { states, counts } = await machineKpiInputs(db, machineIds, from, to, now, lines);
  return computeKpis(states, sumCounts(counts.values()));
}
