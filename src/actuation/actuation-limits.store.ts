import { eq, sql } from "drizzle-orm";
import { actuationLimits } from "../../schema/db/actuation.js";
import type { DbOrTx, Tx } from "../db/database.js";
import type { ActuationSpec } from "./actuation.rules.js";

export type ActuationLimitRow = typeof actuationLimits.$inferSelect;

/** Brings a point's actuation limits in line with the spec (none: not writable). Reports a change. */
export async function saveActuationLimits(tx: Tx, dataPointId: number, spec: ActuationSpec | undefined): Promise<boolean> {
  const [existing] = await tx.select().from(actuationLimits).where(eq(actuationLimits.dataPointId, dataPointId));
  if (!spec) {
    if (!existing) return false;
    await tx.delete(actuationLimits).where(eq(actuationLimits.dataPointId, dataPointId));
    return true;
  }
  const values = {
    transport: spec.transport,
    commandTopic: spec.topic ?? null,
    min: spec.min ?? null,
    max: spec.max ?? null,
    maxStep: spec.maxStep ?? null,
    minIntervalMs: spec.minIntervalSeconds === undefined ? null : Math.round(spec.minIntervalSeconds * 1000),
    critical: spec.critical,
    allowAutomation: spec.allowAutomation,
    tolerance: spec.tolerance,
  };
  if (existing && Object.entries(values).every(([key, value]) => existing[key as keyof typeof values] === value)) return false;
  await tx
    .insert(actuationLimits)
    .values({ dataPointId, ...values })
    .onConflictDoUpdate({ target: actuationLimits.dataPointId, set: { ...values, updatedAt: sql`now()` } });
  return true;
}

export async function actuationLimitsOf(db: DbOrTx, dataPointId: number): Promise<ActuationLimitRow | undefined> {
  const [row] = await db.select().from(actuationLimits).where(eq(actuationLimits.dataPointId, dataPointId));
  return row;
}
