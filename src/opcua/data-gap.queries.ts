import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { dataGaps } from "../../schema/db/opcua.js";
import type { DbOrTx } from "../db/database.js";

export type DataGapRow = typeof dataGaps.$inferSelect;

/** Opens a gap of an endpoint, unless one is open already; returns the open gap's id. */
export async function openGap(db: DbOrTx, endpointId: number, startedAt: Date, reason: string): Promise<number> {
  const [open] = await db.select({ id: dataGaps.id }).from(dataGaps).where(and(eq(dataGaps.endpointId, endpointId), isNull(dataGaps.endedAt)));
  if (open) return open.id;
  const [row] = await db.insert(dataGaps).values({ source: "opcua", endpointId, startedAt, reason }).returning({ id: dataGaps.id });
  return row!.id;
}

/** Closes the endpoint's open gaps (one, normally; also one left open by a process that died). */
export async function closeGaps(db: DbOrTx, endpointId: number, endedAt: Date): Promise<number> {
  const closed = await db
    .update(dataGaps)
    .set({ endedAt: sql`greatest(${dataGaps.startedAt}, ${endedAt.toISOString()}::timestamptz)` })
    .where(and(eq(dataGaps.endpointId, endpointId), isNull(dataGaps.endedAt)))
    .returning({ id: dataGaps.id });
  return closed.length;
}

/** The newest gaps of an endpoint first. */
export function gapsOfEndpoint(db: DbOrTx, endpointId: number, limit: number): Promise<DataGapRow[]> {
  return db.select().from(dataGaps).where(eq(dataGaps.endpointId, endpointId)).orderBy(desc(dataGaps.startedAt)).limit(limit);
}
