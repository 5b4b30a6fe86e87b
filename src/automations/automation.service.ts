import { asc, eq, sql } from "drizzle-orm";
import { automations } from "../../schema/db/events.js";
import { recordAudit } from "../audit/audit.js";
import { canonicalJson } from "../db/canonical-json.js";
import type { DbOrTx } from "../db/database.js";
import { automationSpec, type AutomationSpec } from "./automation.schema.js";

export type AutomationRow = typeof automations.$inferSelect;

export interface Change<T> {
  row: T;
  change: "created" | "updated" | "unchanged";
}

const content = (r: Pick<AutomationRow, "trigger" | "conditions" | "actions" | "cooldownSeconds" | "enabled">) =>
  canonicalJson([r.trigger, r.conditions, r.actions, r.cooldownSeconds, r.enabled]);

/**
 * Creates the automation, or brings the one of that name in line with the spec (its version goes
 * up only when something changed). Throws ZodError on an invalid spec.
 */
export async function saveAutomation(db: DbOrTx, spec: AutomationSpec, actor: string, requestId?: string): Promise<Change<AutomationRow>> {
  const valid = automationSpec.parse(spec);
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(automations).where(eq(automations.name, valid.name)).for("update");
    const values = { trigger: valid.trigger, conditions: valid.conditions, actions: valid.actions, cooldownSeconds: valid.cooldownSeconds, enabled: valid.enabled };
    if (current && content(current) === content(values)) return { row: current, change: "unchanged" as const };
    const [row] = current
      ? await tx.update(automations).set({ ...values, version: sql`${automations.version} + 1`, updatedAt: sql`now()` }).where(eq(automations.id, current.id)).returning()
      : await tx.insert(automations).values({ name: valid.name, ...values }).returning();
    await recordAudit(tx, {
      actor,
      action: current ? "automation.updated" : "automation.created",
      entityType: "automation",
      entityId: row!.id,
      oldValue: current ? { ...values, ...current, createdAt: undefined, updatedAt: undefined } : null,
      newValue: { ...values, name: row!.name, version: row!.version },
      requestId,
    });
    return { row: row!, change: current ? ("updated" as const) : ("created" as const) };
  });
}

export async function deleteAutomation(db: DbOrTx, id: number, actor: string, requestId?: string): Promise<AutomationRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.delete(automations).where(eq(automations.id, id)).returning();
    if (row) await recordAudit(tx, { actor, action: "automation.deleted", entityType: "automation", entityId: id, oldValue: { name: row.name, trigger: row.trigger, version: row.version }, requestId });
    return row;
  });
}

export function listAutomations(db: DbOrTx): Promise<AutomationRow[]> {
  return db.select().from(automations).orderBy(asc(automations.name));
}

export async function getAutomation(db: DbOrTx, id: number): Promise<AutomationRow | undefined> {
  const [row] = await db.select().from(automations).where(eq(automations.id, id));
  return row;
}
