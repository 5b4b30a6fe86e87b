import { and, asc, eq, type SQL } from "drizzle-orm";
import { machines } from "../../../schema/db/assets.js";
import { rules } from "../../../schema/db/events.js";
import { inSites } from "../../assets/asset.queries.js";
import type { DbOrTx } from "../../db/database.js";
import type { RuleRow } from "../../rules/rule.service.js";

/** Rules of the machines in `sites` (undefined: every site), optionally of one machine, by id. */
export async function listRules(db: DbOrTx, filter: { machineId?: number; sites?: readonly string[] }): Promise<RuleRow[]> {
  const conditions: SQL[] = [];
  if (filter.machineId !== undefined) conditions.push(eq(rules.machineId, filter.machineId));
  if (filter.sites) conditions.push(inSites(machines.path, filter.sites));
  const rows = await db
    .select({ rule: rules })
    .from(rules)
    .innerJoin(machines, eq(machines.id, rules.machineId))
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(asc(rules.id));
  return rows.map((r) => r.rule);
}
