import { eq, inArray } from "drizzle-orm";
import { areas, enterprises, lines, machines, sites } from "../../schema/db/assets.js";
import type { DbOrTx } from "../db/database.js";

/** Where a machine sits: what automation conditions filter on and templates print. */
export interface MachineContext {
  id: number;
  name: string;
  displayName: string | null;
  path: string;
  site: string;
  line: string;
  siteTimezone: string;
}

export async function machineContexts(db: DbOrTx, ids: readonly number[]): Promise<Map<number, MachineContext>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({
      id: machines.id,
      name: machines.name,
      displayName: machines.displayName,
      path: machines.path,
      enterprise: enterprises.name,
      site: sites.name,
      area: areas.name,
      line: lines.name,
      siteTimezone: sites.timezone,
    })
    .from(machines)
    .innerJoin(lines, eq(lines.id, machines.lineId))
    .innerJoin(areas, eq(areas.id, lines.areaId))
    .innerJoin(sites, eq(sites.id, areas.siteId))
    .innerJoin(enterprises, eq(enterprises.id, sites.enterpriseId))
    .where(inArray(machines.id, [...new Set(ids)]));
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        name: r.name,
        displayName: r.displayName,
        path: r.path,
        site: `${r.enterprise}/${r.site}`,
        line: `${r.enterprise}/${r.site}/${r.area}/${r.line}`,
        siteTimezone: r.siteTimezone,
      },
    ]),
  );
}

/**
 * Lines in the shape of a machine context (id 0, the line's path as path and line): automations'
 * site and line conditions match an event of a whole line, machine conditions do not.
 */
export async function lineContexts(db: DbOrTx, lineIds: readonly number[]): Promise<Map<number, MachineContext>> {
  if (lineIds.length === 0) return new Map();
  const rows = await db
    .select({ id: lines.id, name: lines.name, enterprise: enterprises.name, site: sites.name, area: areas.name, siteTimezone: sites.timezone })
    .from(lines)
    .innerJoin(areas, eq(areas.id, lines.areaId))
    .innerJoin(sites, eq(sites.id, areas.siteId))
    .innerJoin(enterprises, eq(enterprises.id, sites.enterpriseId))
    .where(inArray(lines.id, [...new Set(lineIds)]));
  return new Map(
    rows.map((r) => {
      const path = `${r.enterprise}/${r.site}/${r.area}/${r.name}`;
      return [r.id, { id: 0, name: r.name, displayName: null, path, site: `${r.enterprise}/${r.site}`, line: path, siteTimezone: r.siteTimezone }];
    }),
  );
}
