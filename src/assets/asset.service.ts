import { and, eq, inArray, notInArray, sql, type SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { areas, dataPoints, enterprises, lines, machines, sites } from "../../schema/db/assets.js";
import { machineStateRollups, productionCounts } from "../../schema/db/availability.js";
import { telemetry } from "../../schema/db/telemetry.js";
import { telemetryRollupHour, telemetryRollupMinute } from "../../schema/db/lifecycle.js";
import type { Tx } from "../db/database.js";
import { formatMachinePath, type DataPointSpec, type MachinePath } from "./asset.rules.js";

/**
 * The single writer of the asset model. GraphQL mutations and the plant file both go through
 * these functions (inside the caller's transaction), so they cannot drift apart.
 */

export type ChangeKind = "created" | "updated" | "unchanged";
export interface Upserted {
  id: number;
  change: ChangeKind;
}

type Row = Record<string, unknown> & { id: number };

/** Insert, update or leave alone the row that `key` identifies, reporting which it was. */
async function upsertByKey(
  tx: Tx,
  table: PgTable & { id: never },
  key: SQL | undefined,
  values: Record<string, unknown>,
): Promise<Upserted> {
  const [existing] = (await tx.select().from(table).where(key).limit(1)) as Row[];
  if (!existing) {
    const [inserted] = (await tx.insert(table).values(values as never).returning()) as Row[];
    return { id: inserted!.id, change: "created" };
  }
  const differs = Object.entries(values).some(([column, value]) => (existing[column] ?? null) !== (value ?? null));
  if (!differs) return { id: existing.id, change: "unchanged" };
  await tx
    .update(table)
    .set({ ...values, updatedAt: sql`now()` } as never)
    .where(eq((table as unknown as { id: never }).id, existing.id as never));
  return { id: existing.id, change: "updated" };
}

const asTable = <T>(t: T) => t as unknown as PgTable & { id: never };

export interface MachineInput extends MachinePath {
  displayName?: string | null;
  timezone?: string;
}

export interface ParentsInput {
  enterprise: string;
  site?: string;
  area?: string;
  line?: string;
  timezone?: string;
}

/**
 * Ensures enterprise → site → area → line exist and match, down to the deepest level given (for
 * sites, areas and lines that have no machines yet). Returns the chain top-down.
 */
export async function upsertParents(tx: Tx, input: ParentsInput): Promise<Upserted[]> {
  const enterprise = await upsertByKey(tx, asTable(enterprises), eq(enterprises.name, input.enterprise), {
    name: input.enterprise,
  });
  if (input.site === undefined) return [enterprise];
  const site = await upsertByKey(
    tx,
    asTable(sites),
    and(eq(sites.enterpriseId, enterprise.id), eq(sites.name, input.site)),
    { enterpriseId: enterprise.id, name: input.site, ...(input.timezone ? { timezone: input.timezone } : {}) },
  );
  if (input.area === undefined) return [enterprise, site];
  const area = await upsertByKey(tx, asTable(areas), and(eq(areas.siteId, site.id), eq(areas.name, input.area)), {
    siteId: site.id,
    name: input.area,
  });
  if (input.line === undefined) return [enterprise, site, area];
  const line = await upsertByKey(tx, asTable(lines), and(eq(lines.areaId, area.id), eq(lines.name, input.line)), {
    areaId: area.id,
    name: input.line,
  });
  return [enterprise, site, area, line];
}

/** Ensures the whole ISA-95 chain down to the machine exists and matches the input. */
export async function upsertMachine(tx: Tx, input: MachineInput): Promise<Upserted & { parents: Upserted[] }> {
  const parents = await upsertParents(tx, input);
  const line = parents[3]!;
  const machine = await upsertByKey(
    tx,
    asTable(machines),
    and(eq(machines.lineId, line.id), eq(machines.name, input.name)),
    {
      lineId: line.id,
      name: input.name,
      path: formatMachinePath(input),
      ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
    },
  );
  return { ...machine, parents };
}

export function upsertDataPoint(tx: Tx, machineId: number, spec: DataPointSpec): Promise<Upserted> {
  return upsertByKey(tx, asTable(dataPoints), and(eq(dataPoints.machineId, machineId), eq(dataPoints.name, spec.name)), {
    machineId,
    name: spec.name,
    unit: spec.unit ?? null,
    dataType: spec.dataType,
    normalMin: spec.normalMin ?? null,
    normalMax: spec.normalMax ?? null,
    mqttTopic: spec.mqttTopic ?? null,
    mqttField: spec.mqttField ?? null,
    sparkplugGroup: spec.sparkplugGroup ?? null,
    sparkplugNode: spec.sparkplugNode ?? null,
    sparkplugDevice: spec.sparkplugDevice ?? null,
    sparkplugMetric: spec.sparkplugMetric ?? null,
  });
}

/**
 * Deletes data points and their telemetry and rollups, which have no foreign key. Readings kept
 * for held lots (telemetry_held) stay: they are evidence. Returns how many points went.
 */
export async function deleteDataPoints(tx: Tx, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  await tx.delete(telemetry).where(inArray(telemetry.dataPointId, ids));
  await tx.delete(telemetryRollupMinute).where(inArray(telemetryRollupMinute.dataPointId, ids));
  await tx.delete(telemetryRollupHour).where(inArray(telemetryRollupHour.dataPointId, ids));
  const deleted = await tx.delete(dataPoints).where(inArray(dataPoints.id, ids)).returning({ id: dataPoints.id });
  return deleted.length;
}

export async function deleteMachine(tx: Tx, machineId: number): Promise<boolean> {
  const points = await tx.select({ id: dataPoints.id }).from(dataPoints).where(eq(dataPoints.machineId, machineId));
  await deleteDataPoints(
    tx,
    points.map((p) => p.id),
  );
  // Rollups carry no foreign key (the writes are hot); the line's rollups keep its history.
  await tx.delete(machineStateRollups).where(eq(machineStateRollups.machineId, machineId));
  await tx.delete(productionCounts).where(eq(productionCounts.machineId, machineId));
  const deleted = await tx.delete(machines).where(eq(machines.id, machineId)).returning({ id: machines.id });
  return deleted.length > 0;
}

/** Data points of a machine that are not in `keep`, for declarative pruning. */
export async function dataPointsNotIn(tx: Tx, machineId: number, keep: number[]): Promise<number[]> {
  const rows = await tx
    .select({ id: dataPoints.id })
    .from(dataPoints)
    .where(keep.length ? and(eq(dataPoints.machineId, machineId), notInArray(dataPoints.id, keep)) : eq(dataPoints.machineId, machineId));
  return rows.map((r) => r.id);
}
