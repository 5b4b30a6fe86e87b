import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { dataPoints, machines } from "../../schema/db/assets.js";
import { opcuaBindings, opcuaEndpoints } from "../../schema/db/opcua.js";
import { recordAudit } from "../audit/audit.js";
import type { DbOrTx } from "../db/database.js";
import type { Actor } from "../integrations/integration.service.js";
import type { BindingSpec } from "./opcua.rules.js";

export type BindingRow = typeof opcuaBindings.$inferSelect;
export type BindingChange = "created" | "updated" | "unchanged";

/** What a binding row holds of its spec: its audit record's old value. */
function storedColumns(row: BindingRow): Record<string, unknown> {
  const { endpointId, nodeId, browsePath, samplingIntervalMs, queueSize, deadbandType, deadbandValue } = row;
  return { endpointId, nodeId, browsePath, samplingIntervalMs, queueSize, deadbandType, deadbandValue };
}

/** The columns a spec sets, to compare with what is stored. */
function columnsOf(endpointId: number, spec: BindingSpec) {
  return {
    endpointId,
    nodeId: spec.nodeId ?? null,
    browsePath: spec.browsePath ?? null,
    samplingIntervalMs: spec.samplingIntervalMs,
    queueSize: spec.queueSize,
    deadbandType: spec.deadband?.type ?? ("none" as const),
    deadbandValue: spec.deadband?.value ?? 0,
  };
}

/** Binds a data point to a node of an endpoint (replacing its binding), reporting whether anything changed. */
export async function setBinding(db: DbOrTx, dataPointId: number, endpointId: number, spec: BindingSpec, by: Actor): Promise<{ row: BindingRow; change: BindingChange }> {
  const columns = columnsOf(endpointId, spec);
  const [current] = await db.select().from(opcuaBindings).where(eq(opcuaBindings.dataPointId, dataPointId));
  if (current && Object.entries(columns).every(([key, value]) => current[key as keyof typeof columns] === value)) return { row: current, change: "unchanged" };
  // A changed address gets a fresh verdict from the server.
  const [row] = await db
    .insert(opcuaBindings)
    .values({ dataPointId, ...columns })
    .onConflictDoUpdate({ target: opcuaBindings.dataPointId, set: { ...columns, lastError: null, lastErrorAt: null } })
    .returning();
  await recordAudit(db, { actor: by.actor, action: "opcua_binding.set", entityType: "data_point", entityId: dataPointId, oldValue: current ? storedColumns(current) : null, newValue: { ...columns }, requestId: by.requestId });
  return { row: row!, change: current ? "updated" : "created" };
}

export async function removeBinding(db: DbOrTx, dataPointId: number, by: Actor): Promise<boolean> {
  const deleted = await db.delete(opcuaBindings).where(eq(opcuaBindings.dataPointId, dataPointId)).returning();
  for (const row of deleted) {
    await recordAudit(db, { actor: by.actor, action: "opcua_binding.removed", entityType: "data_point", entityId: dataPointId, oldValue: storedColumns(row), requestId: by.requestId });
  }
  return deleted.length > 0;
}

export function bindingsOfDataPoints(db: DbOrTx, ids: readonly number[]): Promise<BindingRow[]> {
  return db.select().from(opcuaBindings).where(inArray(opcuaBindings.dataPointId, [...ids]));
}

/** Everything the ingest process needs about the bindings of enabled endpoints, in one read. */
export interface IngestBindingRow extends BindingRow {
  machineId: number;
  machinePath: string;
  metric: string;
  dataType: (typeof dataPoints.$inferSelect)["dataType"];
}

export function listIngestBindings(db: DbOrTx): Promise<IngestBindingRow[]> {
  return db
    .select({
      dataPointId: opcuaBindings.dataPointId,
      endpointId: opcuaBindings.endpointId,
      nodeId: opcuaBindings.nodeId,
      browsePath: opcuaBindings.browsePath,
      samplingIntervalMs: opcuaBindings.samplingIntervalMs,
      queueSize: opcuaBindings.queueSize,
      deadbandType: opcuaBindings.deadbandType,
      deadbandValue: opcuaBindings.deadbandValue,
      lastError: opcuaBindings.lastError,
      lastErrorAt: opcuaBindings.lastErrorAt,
      machineId: machines.id,
      machinePath: machines.path,
      metric: dataPoints.name,
      dataType: dataPoints.dataType,
    })
    .from(opcuaBindings)
    .innerJoin(opcuaEndpoints, and(eq(opcuaEndpoints.id, opcuaBindings.endpointId), eq(opcuaEndpoints.enabled, true)))
    .innerJoin(dataPoints, eq(dataPoints.id, opcuaBindings.dataPointId))
    .innerJoin(machines, eq(machines.id, dataPoints.machineId))
    .orderBy(asc(opcuaBindings.dataPointId));
}

/** Stores the server's verdict per item: an error, or null once it works. One statement; only rows that change are written. */
export async function recordItemErrors(db: DbOrTx, errors: ReadonlyMap<number, string | undefined>): Promise<void> {
  if (errors.size === 0) return;
  const ids = [...errors.keys()];
  const messages = [...errors.values()].map((error) => error ?? null);
  await db.execute(sql`
    update ${opcuaBindings} as b
    set last_error = u.error, last_error_at = case when u.error is null then null else now() end
    from unnest(${sql.param(ids)}::int4[], ${sql.param(messages)}::text[]) as u(id, error)
    where b.data_point_id = u.id and b.last_error is distinct from u.error`);
}
