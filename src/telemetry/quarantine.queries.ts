import { and, desc, eq, lt, sql, type SQL } from "drizzle-orm";
import { quarantine } from "../../schema/db/telemetry.js";
import type { DbOrTx } from "../db/database.js";
import type { QuarantineReason } from "./sample.js";

export type QuarantineRow = typeof quarantine.$inferSelect;

/** Newest first, keyset-paged by id. */
export async function pageQuarantine(
  db: DbOrTx,
  filter: { reason?: QuarantineReason; topic?: string },
  page: { beforeId?: number; limit: number },
): Promise<{ rows: QuarantineRow[]; totalCount: number }> {
  const conditions: SQL[] = [];
  if (filter.reason) conditions.push(eq(quarantine.reason, filter.reason));
  if (filter.topic) conditions.push(eq(quarantine.topic, filter.topic));
  const where = conditions.length ? and(...conditions) : undefined;
  const pageWhere = page.beforeId === undefined ? where : and(where, lt(quarantine.id, page.beforeId));
  const [rows, [count]] = await Promise.all([
    db.select().from(quarantine).where(pageWhere).orderBy(desc(quarantine.id)).limit(page.limit),
    db.select({ n: sql<number>`count(*)::int` }).from(quarantine).where(where),
  ]);
  return { rows, totalCount: count?.n ?? 0 };
}

export function quarantineCounts(db: DbOrTx): Promise<{ reason: string; count: number }[]> {
  return db
    .select({ reason: quarantine.reason, count: sql<number>`count(*)::int` })
    .from(quarantine)
    .groupBy(quarantine.reason)
    .orderBy(quarantine.reason);
}
