import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { securityEvents } from "../../schema/db/security.js";
import type { DbOrTx } from "../db/database.js";
import type { SecurityAction } from "./security-events.js";

export type SecurityEventRow = typeof securityEvents.$inferSelect;

/** Newest first, keyset-paged by id. */
export async function pageSecurityEvents(
  db: DbOrTx,
  filter: { action?: SecurityAction; actor?: string },
  page: { beforeId?: number; limit: number },
): Promise<SecurityEventRow[]> {
  const conditions: SQL[] = [];
  if (filter.action) conditions.push(eq(securityEvents.action, filter.action));
  if (filter.actor) conditions.push(eq(securityEvents.actor, filter.actor));
  if (page.beforeId !== undefined) conditions.push(lt(securityEvents.id, page.beforeId));
  return db
    .select()
    .from(securityEvents)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(securityEvents.id))
    .limit(page.limit);
}
