import { and, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { eventActions, events, type ActionStatus } from "../../../schema/db/events.js";
import { integrations } from "../../../schema/db/security.js";
import type { DbOrTx } from "../../db/database.js";
import { countAll, newestFirstPage } from "../../db/keyset-page.js";

export interface EventActionView {
  action: typeof eventActions.$inferSelect;
  event: { id: number; kind: string; message: string; at: Date };
  integration: { id: number; name: string; kind: string; site: string | null };
}

const selection = {
  action: eventActions,
  event: { id: events.id, kind: events.kind, message: events.message, at: events.at },
  integration: { id: integrations.id, name: integrations.name, kind: integrations.kind, site: integrations.site },
};

/** Integrations of these sites only (never site-less ones); undefined: every integration. */
const ofSites = (sites: readonly string[] | undefined): SQL | undefined =>
  sites === undefined ? undefined : sites.length === 0 ? sql`false` : inArray(integrations.site, [...sites]);

/** Keyset page of the dead actions, newest first. */
export async function pageDeadLetters(
  db: DbOrTx,
  filter: { integrationId?: number; sites?: readonly string[] },
  page: { beforeId?: number; limit: number },
): Promise<{ rows: EventActionView[]; totalCount: number }> {
  const where = and(
    eq(eventActions.status, "dead"),
    filter.integrationId === undefined ? undefined : eq(eventActions.integrationId, filter.integrationId),
    ofSites(filter.sites),
  );
  return newestFirstPage(
    eventActions.id,
    where,
    page.beforeId,
    (pageWhere) =>
      db
        .select(selection)
        .from(eventActions)
        .innerJoin(events, eq(events.id, eventActions.eventId))
        .innerJoin(integrations, eq(integrations.id, eventActions.integrationId))
        .where(pageWhere)
        .orderBy(desc(eventActions.id))
        .limit(page.limit),
    (all) => db.select(countAll).from(eventActions).innerJoin(integrations, eq(integrations.id, eventActions.integrationId)).where(all),
  );
}

export async function eventActionById(db: DbOrTx, id: number): Promise<EventActionView | undefined> {
  const [row] = await db
    .select(selection)
    .from(eventActions)
    .innerJoin(events, eq(events.id, eventActions.eventId))
    .innerJoin(integrations, eq(integrations.id, eventActions.integrationId))
    .where(eq(eventActions.id, id));
  return row;
}

/** How many of an integration's actions are in this status. */
export async function countActions(db: DbOrTx, integrationId: number, status: ActionStatus): Promise<number> {
  const [row] = await db
    .select(countAll)
    .from(eventActions)
    .where(and(eq(eventActions.integrationId, integrationId), eq(eventActions.status, status)));
  return row?.n ?? 0;
}
