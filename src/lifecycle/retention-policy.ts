import { eq } from "drizzle-orm";
import { z } from "zod";
import { retentionPolicies } from "../../schema/db/lifecycle.js";
import { recordAudit } from "../audit/audit.js";
import type { Tx } from "../db/database.js";

const days = z.number({ error: "expected a number of days" }).int({ error: "expected whole days" }).min(1, { error: "expected at least 1 day" }).max(36_500, { error: "expected at most 36500 days" });

/** Days to keep readings per resolution; an absent one falls back to the site's, then the hub's. */
export const retentionSpec = z.strictObject({ rawDays: days.optional(), minuteDays: days.optional(), hourDays: days.optional() });
export type RetentionSpec = z.output<typeof retentionSpec>;

export type RetentionScope = { siteId: number } | { dataPointId: number };
export type PolicyChange = "created" | "updated" | "deleted" | "unchanged";

/** Makes the scope's policy `spec` (none when undefined), auditing any change. */
export async function setRetentionPolicy(tx: Tx, scope: RetentionScope, spec: RetentionSpec | undefined, actor: string): Promise<PolicyChange> {
  const column = "siteId" in scope ? retentionPolicies.siteId : retentionPolicies.dataPointId;
  const scopeId = "siteId" in scope ? scope.siteId : scope.dataPointId;
  const [current] = await tx.select().from(retentionPolicies).where(eq(column, scopeId));
  const wanted = spec && { rawDays: spec.rawDays ?? null, minuteDays: spec.minuteDays ?? null, hourDays: spec.hourDays ?? null };
  const old = current && { rawDays: current.rawDays, minuteDays: current.minuteDays, hourDays: current.hourDays };
  let change: PolicyChange;
  if (!wanted) {
    if (!current) return "unchanged";
    await tx.delete(retentionPolicies).where(eq(retentionPolicies.id, current.id));
    change = "deleted";
  } else if (!current) {
    await tx.insert(retentionPolicies).values({ ...scope, ...wanted });
    change = "created";
  } else {
    if (old!.rawDays === wanted.rawDays && old!.minuteDays === wanted.minuteDays && old!.hourDays === wanted.hourDays) return "unchanged";
    await tx.update(retentionPolicies).set(wanted).where(eq(retentionPolicies.id, current.id));
    change = "updated";
  }
  await recordAudit(tx, {
    actor,
    action: "retention.changed",
    entityType: "siteId" in scope ? "site" : "data_point",
    entityId: scopeId,
    oldValue: old ?? null,
    newValue: wanted ?? null,
  });
  return change;
}
