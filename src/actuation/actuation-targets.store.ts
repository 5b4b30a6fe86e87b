import { asc, eq, inArray, sql } from "drizzle-orm";
import { actuationLimits, machineMethods } from "../../schema/db/actuation.js";
import { canonicalJson } from "../db/canonical-json.js";
import type { DbOrTx, Tx } from "../db/database.js";
import { methodAddress, type ActuationSpec, type MethodSpec } from "./actuation.rules.js";

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

/**
 * Brings a machine's methods in line with the file: listed ones created or updated; with `prune`
 * the others deleted (their requests with them; the audit trail keeps their story). Reports each change.
 */
export async function saveMachineMethods(tx: Tx, machineId: number, specs: readonly MethodSpec[], prune: boolean, count: (change: "created" | "updated" | "unchanged") => void): Promise<number> {
  const existing = new Map((await tx.select().from(machineMethods).where(eq(machineMethods.machineId, machineId))).map((m) => [m.name, m]));
  for (const spec of specs) {
    const values = {
      transport: spec.transport,
      address: methodAddress(spec),
      minIntervalMs: spec.minIntervalSeconds === undefined ? null : Math.round(spec.minIntervalSeconds * 1000),
      critical: spec.critical,
      allowAutomation: spec.allowAutomation,
    };
    const current = existing.get(spec.name);
    existing.delete(spec.name);
    if (!current) {
      await tx.insert(machineMethods).values({ machineId, name: spec.name, ...values });
      count("created");
    } else if (canonicalJson(pick(current, values)) === canonicalJson(values)) count("unchanged");
    else {
      await tx.update(machineMethods).set({ ...values, updatedAt: sql`now()` }).where(eq(machineMethods.id, current.id));
      count("updated");
    }
  }
  if (!prune || existing.size === 0) return 0;
  await tx.delete(machineMethods).where(inArray(machineMethods.id, [...existing.values()].map((m) => m.id)));
  return existing.size;
}

const pick = <T extends object>(row: T, like: object) => Object.fromEntries(Object.keys(like).map((k) => [k, row[k as keyof T]]));

export type ActuationLimitRow = typeof actuationLimits.$inferSelect;
export type MachineMethodRow = typeof machineMethods.$inferSelect;

export function limitsOfPoints(db: DbOrTx, dataPointIds: readonly number[]): Promise<ActuationLimitRow[]> {
  return db.select().from(actuationLimits).where(inArray(actuationLimits.dataPointId, [...dataPointIds]));
}

export function methodsOfMachines(db: DbOrTx, machineIds: readonly number[]): Promise<MachineMethodRow[]> {
  return db.select().from(machineMethods).where(inArray(machineMethods.machineId, [...machineIds])).orderBy(asc(machineMethods.name));
}
