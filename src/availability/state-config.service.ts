import { eq, inArray, sql } from "drizzle-orm";
import { machineStateConfigs } from "../../schema/db/availability.js";
import { dataPoints } from "../../schema/db/assets.js";
import type { ChangeKind } from "../assets/asset.service.js";
import { recordAudit } from "../audit/audit.js";
import type { DbOrTx, Tx } from "../db/database.js";
import { canonicalJson } from "../db/canonical-json.js";
import { effectiveStateConfig, machineStateConfig, type EffectiveStateConfig, type MachineStateConfig } from "./state-config.js";

/** A state source or counter names a data point the machine does not have. */
export class StateConfigPointMissing extends Error {
  constructor(readonly point: string) {
    super(`the machine has no data point named "${point}"`);
  }
}

/** Creates, replaces or leaves alone a machine's state config; every point it names must exist. */
export async function saveStateConfig(tx: Tx, machineId: number, config: MachineStateConfig, actor: string, requestId?: string): Promise<ChangeKind> {
  const names = new Set((await tx.select({ name: dataPoints.name }).from(dataPoints).where(eq(dataPoints.machineId, machineId))).map((p) => p.name));
  const named = [...(config.sources ?? []).map((s) => s.point), ...Object.values(config.counters ?? {}), config.job?.product, config.job?.unitsCompleted];
  const missing = named.find((name) => name !== undefined && !names.has(name));
  if (missing !== undefined) throw new StateConfigPointMissing(missing);
  const [existing] = await tx.select().from(machineStateConfigs).where(eq(machineStateConfigs.machineId, machineId)).for("update");
  if (existing && canonicalJson(existing.config) === canonicalJson(config)) return "unchanged";
  if (existing) await tx.update(machineStateConfigs).set({ config, updatedAt: sql`now()` }).where(eq(machineStateConfigs.machineId, machineId));
  else await tx.insert(machineStateConfigs).values({ machineId, config });
  await recordAudit(tx, { actor, action: "machine_state_config.saved", entityType: "machine", entityId: machineId, oldValue: existing?.config ?? null, newValue: config, requestId });
  return existing ? "updated" : "created";
}

export async function stateConfigOf(db: DbOrTx, machineId: number): Promise<Record<string, unknown> | undefined> {
  const [row] = await db.select().from(machineStateConfigs).where(eq(machineStateConfigs.machineId, machineId));
  return row?.config;
}

/** The configuration in effect for each machine: its own, or the defaults its data points suggest. */
export async function stateConfigs(db: DbOrTx, machineIds: readonly number[]): Promise<Map<number, EffectiveStateConfig>> {
  if (machineIds.length === 0) return new Map();
  const [configs, points] = await Promise.all([
    db.select().from(machineStateConfigs).where(inArray(machineStateConfigs.machineId, [...machineIds])),
    db.select({ machineId: dataPoints.machineId, name: dataPoints.name }).from(dataPoints).where(inArray(dataPoints.machineId, [...machineIds])),
  ]);
  const stated = new Map(configs.map((c) => [c.machineId, machineStateConfig.parse(c.config)]));
  const names = new Map<number, string[]>();
  for (const p of points) names.set(p.machineId, [...(names.get(p.machineId) ?? []), p.name]);
  return new Map(machineIds.map((id) => [id, effectiveStateConfig(stated.get(id), names.get(id) ?? [])]));
}
