import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { dataPoints } from "../../schema/db/assets.js";
import { rules, severities } from "../../schema/db/events.js";
import { recordAudit } from "../audit/audit.js";
import { canonicalJson } from "../db/canonical-json.js";
import type { DbOrTx } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import type { RuleDefinition } from "./evaluate.js";
import { ruleParams } from "./rule.schema.js";

export type RuleRow = typeof rules.$inferSelect;

/** One rule on one data point of a machine; the same schema serves GraphQL and the plant file. */
export const ruleSpec = z.strictObject({
  machineId: z.number().int().positive(),
  /** The data point's name on that machine. */
  dataPoint: z.string().min(1),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { message: "expected 1-63 letters, digits, '_', '.' or '-'" }),
  severity: z.enum(severities).default("warning"),
  enabled: z.boolean().default(true),
  params: ruleParams,
});
export type RuleSpec = z.input<typeof ruleSpec>;

export class RuleTargetMissing extends Error {
  override readonly name = "RuleTargetMissing";
}

const content = (r: { dataPointId: number; kind: string; params: unknown; severity: string; enabled: boolean }) =>
  canonicalJson([r.dataPointId, r.kind, r.params, r.severity, r.enabled]);

/**
 * Creates the rule or brings the machine's rule of that name in line; the version goes up on every
 * real change, and every event the rule raises records the version it had. Throws ZodError or
 * RuleTargetMissing (no such data point on the machine).
 */
export async function saveRule(db: DbOrTx, spec: RuleSpec, actor: string, requestId?: string): Promise<{ row: RuleRow; change: "created" | "updated" | "unchanged" }> {
  const valid = ruleSpec.parse(spec);
  return db.transaction(async (tx) => {
    const [point] = await tx
      .select({ id: dataPoints.id })
      .from(dataPoints)
      .where(and(eq(dataPoints.machineId, valid.machineId), eq(dataPoints.name, valid.dataPoint)));
    if (!point) throw new RuleTargetMissing(`machine ${valid.machineId} has no data point "${valid.dataPoint}"`);
    const values = { dataPointId: point.id, kind: valid.params.kind, params: valid.params as Record<string, unknown>, severity: valid.severity, enabled: valid.enabled };
    const [current] = await tx.select().from(rules).where(and(eq(rules.machineId, valid.machineId), eq(rules.name, valid.name))).for("update");
    if (current && content(current) === content(values)) return { row: current, change: "unchanged" as const };
    const [row] = current
      ? await tx.update(rules).set({ ...values, version: sql`${rules.version} + 1`, updatedAt: sql`now()` }).where(eq(rules.id, current.id)).returning()
      : await tx.insert(rules).values({ machineId: valid.machineId, name: valid.name, ...values }).returning();
    await recordAudit(tx, {
      actor,
      action: current ? "rule.updated" : "rule.created",
      entityType: "rule",
      entityId: row!.id,
      oldValue: current ? ruleSnapshot(current) : null,
      newValue: ruleSnapshot(row!),
      requestId,
    });
    return { row: row!, change: current ? ("updated" as const) : ("created" as const) };
  });
}

export async function deleteRule(db: DbOrTx, id: number, actor: string, requestId?: string): Promise<RuleRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.delete(rules).where(eq(rules.id, id)).returning();
    if (row) await recordAudit(tx, { actor, action: "rule.deleted", entityType: "rule", entityId: id, oldValue: ruleSnapshot(row), requestId });
    return row;
  });
}

export async function getRule(db: DbOrTx, id: number): Promise<RuleRow | undefined> {
  const [row] = await db.select().from(rules).where(eq(rules.id, id));
  return row;
}

export function rulesOfMachines(db: DbOrTx, machineIds: readonly number[]): Promise<RuleRow[]> {
  return machineIds.length ? db.select().from(rules).where(inArray(rules.machineId, [...machineIds])).orderBy(asc(rules.id)) : Promise.resolve([]);
}

/** The enabled rules as the engine takes them. A stored rule that no longer validates is skipped and logged. */
export async function loadRuleDefinitions(db: DbOrTx, log: Logger): Promise<RuleDefinition[]> {
  const rows = await db.select().from(rules).where(eq(rules.enabled, true));
  return rows.flatMap((row) => {
    const params = ruleParams.safeParse(row.params);
    if (!params.success) {
      log.error({ ruleId: row.id, issues: params.error.issues }, "stored rule no longer validates; skipped");
      return [];
    }
    return [{ id: row.id, version: row.version, machineId: row.machineId, dataPointId: row.dataPointId, severity: row.severity, params: params.data }];
  });
}

function ruleSnapshot(r: RuleRow): Record<string, unknown> {
  return { name: r.name, machineId: r.machineId, dataPointId: r.dataPointId, kind: r.kind, params: r.params, severity: r.severity, enabled: r.enabled, version: r.version };
}
