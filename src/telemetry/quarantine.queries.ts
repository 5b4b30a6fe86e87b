import { and, desc, eq, lt, or, sql, type SQL } from "drizzle-orm";
import { dataPoints, machines } from "../../schema/db/assets.js";
import { quarantine } from "../../schema/db/telemetry.js";
import { inSites } from "../assets/asset.queries.js";
import type { DbOrTx } from "../db/database.js";
import type { QuarantineReason } from "./sample.js";

export type QuarantineRow = typeof quarantine.$inferSelect;

/**
 * A quarantined message belongs to a site through the data point it was meant for, or else
 * through its topic's first two levels (the Unified Namespace's enterprise/site).
 */
function quarantineInSites(sites: readonly string[]): SQL {
  const boundToSite = sql`exists (select 1 from ${dataPoints} join ${machines} on ${machines.id} = ${dataPoints.machineId}
    where ${dataPoints.id} = ${quarantine.dataPointId} and ${inSites(machines.path, sites)})`;
  return or(boundToSite, inSites(quarantine.topic, sites))!;
}

export interface QuarantineFilter {
  reason?: QuarantineReason;
  topic?: string;
  /** Only messages of these "enterprise/site" paths; undefined: every site. */
  sites?: readonly string[];
}

/** Newest first, keyset-paged by id. */
export async function pageQuarantine(
  db: DbOrTx,
  filter: QuarantineFilter,
  page: { beforeId?: number; limit: number },
): Promise<{ rows: QuarantineRow[]; totalCount: number }> {
  const conditions: SQL[] = [];
  if (filter.reason) conditions.push(eq(quarantine.reason, filter.reason));
  if (filter.topic) conditions.push(eq(quarantine.topic, filter.topic));
  if (filter.sites) conditions.push(quarantineInSites(filter.sites));
  const where = conditions.length ? and(...conditions) : undefined;
  const pageWhere = page.beforeId === undefined ? where : and(where, lt(quarantine.id, page.beforeId));
  const [rows, [count]] = await Promise.all([
    db.select().from(quarantine).where(pageWhere).orderBy(desc(quarantine.id)).limit(page.limit),
    db.select({ n: sql<number>`count(*)::int` }).from(quarantine).where(where),
  ]);
  return { rows, totalCount: count?.n ?? 0 };
}

export function quarantineCounts(db: DbOrTx, sites?: readonly string[]): Promise<{ reason: string; count: number }[]> {
  return db
    .select({ reason: quarantine.reason, count: sql<number>`count(*)::int` })
    .from(quarantine)
    .where(sites ? quarantineInSites(sites) : undefined)
    .groupBy(quarantine.reason)
    .orderBy(quarantine.reason);
}
