import { and, asc, desc, eq, getTableColumns, gt, gte, lt } from "drizzle-orm";
import { auditChainLinks, auditEntries } from "../../schema/db/audit.js";
import type { DbOrTx } from "../db/database.js";
import { countAll, newestFirstPage } from "../db/keyset-page.js";

/** An entry with its place in the chain: null until linked, and for entries older than the chain. */
export type AuditEntryRow = typeof auditEntries.$inferSelect & { seq: number | null; prevHash: string | null; hash: string | null };

const entryWithLink = { ...getTableColumns(auditEntries), seq: auditChainLinks.seq, prevHash: auditChainLinks.prevHash, hash: auditChainLinks.hash };

export interface AuditEntryFilter {
  entityType?: string;
  entityId?: string;
  actor?: string;
  action?: string;
  from?: Date;
  to?: Date;
}

/** Newest first, keyset-paged by id, with the total matching the filter. */
export async function pageAuditEntries(db: DbOrTx, filter: AuditEntryFilter, page: { beforeId?: number; limit: number }) {
  const where = and(
    filter.entityType === undefined ? undefined : eq(auditEntries.entityType, filter.entityType),
    filter.entityId === undefined ? undefined : eq(auditEntries.entityId, filter.entityId),
    filter.actor === undefined ? undefined : eq(auditEntries.actor, filter.actor),
    filter.action === undefined ? undefined : eq(auditEntries.action, filter.action),
    filter.from === undefined ? undefined : gte(auditEntries.at, filter.from),
    filter.to === undefined ? undefined : lt(auditEntries.at, filter.to),
  );
  return newestFirstPage(
    auditEntries.id,
    where,
    page.beforeId,
    (pageWhere) =>
      db
        .select(entryWithLink)
        .from(auditEntries)
        .leftJoin(auditChainLinks, eq(auditChainLinks.entryId, auditEntries.id))
        .where(pageWhere)
        .orderBy(desc(auditEntries.id))
        .limit(page.limit),
    (all) => db.select(countAll).from(auditEntries).where(all),
  );
}

/** Entries linked after `seq`, in chain (commit) order: what a follower has not seen yet. */
export function entriesAfter(db: DbOrTx, seq: number, limit: number): Promise<AuditEntryRow[]> {
  return db
    .select(entryWithLink)
    .from(auditChainLinks)
    .innerJoin(auditEntries, eq(auditEntries.id, auditChainLinks.entryId))
    .where(gt(auditChainLinks.seq, seq))
    .orderBy(asc(auditChainLinks.seq))
    .limit(limit);
}
