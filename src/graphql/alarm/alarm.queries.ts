import { and, desc, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import { machines } from "../../../schema/db/assets.js";
import { alarms, rules, type AlarmState } from "../../../schema/db/events.js";
import type { AlarmRow } from "../../alarms/alarm.service.js";
import { inSites } from "../../assets/asset.queries.js";
import type { DbOrTx } from "../../db/database.js";
import { countAll, newestFirstPage } from "../../db/keyset-page.js";

export interface AlarmWithRule {
  alarm: AlarmRow;
  ruleName: string;
}

export interface AlarmFilter {
  machineId?: number;
  states?: readonly AlarmState[];
  /** false: leave out alarms shelved now. */
  includeShelved: boolean;
  /** Only alarms of machines in these sites; undefined: every site. */
  sites?: readonly string[];
}

const selection = { alarm: alarms, ruleName: rules.name };

function conditionsOf(filter: AlarmFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.machineId !== undefined) conditions.push(eq(alarms.machineId, filter.machineId));
  if (filter.states) conditions.push(filter.states.length ? inArray(alarms.state, [...filter.states]) : sql`false`);
  if (!filter.includeShelved) conditions.push(or(sql`${alarms.shelvedUntil} is null`, sql`${alarms.shelvedUntil} <= now()`)!);
  if (filter.sites) conditions.push(inSites(machines.path, filter.sites));
  return conditions;
}

/** Keyset page of alarms, newest first; `beforeId` is the last id of the previous page. */
export async function pageAlarms(
  db: DbOrTx,
  filter: AlarmFilter,
  page: { beforeId?: number; limit: number },
): Promise<{ rows: AlarmWithRule[]; totalCount: number }> {
  return newestFirstPage(
    alarms.id,
    and(...conditionsOf(filter)),
    page.beforeId,
    (pageWhere) =>
      db
        .select(selection)
        .from(alarms)
        .innerJoin(rules, eq(rules.id, alarms.ruleId))
        .innerJoin(machines, eq(machines.id, alarms.machineId))
        .where(pageWhere)
        .orderBy(desc(alarms.id))
        .limit(page.limit),
    (where) => db.select(countAll).from(alarms).innerJoin(machines, eq(machines.id, alarms.machineId)).where(where),
  );
}

export async function alarmById(db: DbOrTx, id: number): Promise<AlarmWithRule | undefined> {
  const [row] = await db.select(selection).from(alarms).innerJoin(rules, eq(rules.id, alarms.ruleId)).where(eq(alarms.id, id));
  return row;
}
