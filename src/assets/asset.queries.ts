import { and, asc, eq, gt, inArray, sql, type AnyColumn, type SQL } from "drizzle-orm";
import { areas, dataPoints, enterprises, lines, machines, sites } from "../../schema/db/assets.js";
import type { Database, DbOrTx } from "../db/database.js";

export type EnterpriseRow = typeof enterprises.$inferSelect;
export type SiteRow = typeof sites.$inferSelect;
export type AreaRow = typeof areas.$inferSelect;
export type LineRow = typeof lines.$inferSelect;
export type MachineRow = typeof machines.$inferSelect;
export type DataPointRow = typeof dataPoints.$inferSelect;

export const assetTables = {
  Enterprise: enterprises,
  Site: sites,
  Area: areas,
  Line: lines,
  Machine: machines,
} as const;

export function listEnterprises(db: DbOrTx): Promise<EnterpriseRow[]> {
  return db.select().from(enterprises).orderBy(asc(enterprises.name));
}

export function sitesByEnterprise(db: DbOrTx, ids: readonly number[]): Promise<SiteRow[]> {
  return db.select().from(sites).where(inArray(sites.enterpriseId, [...ids])).orderBy(asc(sites.name));
}

export function areasBySite(db: DbOrTx, ids: readonly number[]): Promise<AreaRow[]> {
  return db.select().from(areas).where(inArray(areas.siteId, [...ids])).orderBy(asc(areas.name));
}

export function linesByArea(db: DbOrTx, ids: readonly number[]): Promise<LineRow[]> {
  return db.select().from(lines).where(inArray(lines.areaId, [...ids])).orderBy(asc(lines.name));
}

export function machinesByLine(db: DbOrTx, ids: readonly number[]): Promise<MachineRow[]> {
  return db.select().from(machines).where(inArray(machines.lineId, [...ids])).orderBy(asc(machines.name));
}

export function dataPointsByMachine(db: DbOrTx, ids: readonly number[]): Promise<DataPointRow[]> {
  return db
    .select()
    .from(dataPoints)
    .where(inArray(dataPoints.machineId, [...ids]))
    .orderBy(asc(dataPoints.name));
}

export async function rowsById<T extends keyof typeof assetTables>(
  db: DbOrTx,
  kind: T,
  ids: readonly number[],
): Promise<(typeof assetTables)[T]["$inferSelect"][]> {
  // The union of five tables defeats drizzle's inference; every member has the same `id` column.
  const table = assetTables[kind] as unknown as typeof machines;
  return (await db.select().from(table).where(inArray(table.id, [...ids]))) as never;
}

export async function dataPointsById(db: DbOrTx, ids: readonly number[]): Promise<DataPointRow[]> {
  return db.select().from(dataPoints).where(inArray(dataPoints.id, [...ids]));
}

export interface MachineFilter {
  /** Prefix of the machine path, e.g. "acme/berlin" or "acme/berlin/packaging/line-1". */
  pathPrefix?: string;
  /** Case-insensitive substring of the name or display name. */
  search?: string;
  /** Only machines of these "enterprise/site" paths; undefined: every site. */
  sites?: readonly string[];
}

/** Keyset page of machines ordered by path; `afterPath` is the last path of the previous page. */
export async function pageMachines(
  db: DbOrTx,
  filter: MachineFilter,
  page: { afterPath?: string; limit: number },
): Promise<{ rows: MachineRow[]; totalCount: number }> {
  const conditions: SQL[] = [];
  if (filter.pathPrefix) {
    const prefix = filter.pathPrefix.replace(/\/+$/, "");
    conditions.push(sql`(${machines.path} = ${prefix} or starts_with(${machines.path}, ${`${prefix}/`}))`);
  }
  if (filter.search) {
    const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(sql`(${machines.name} ilike ${pattern} or ${machines.displayName} ilike ${pattern})`);
  }
  if (filter.sites) conditions.push(inSites(machines.path, filter.sites));
  const where = conditions.length ? and(...conditions) : undefined;
  const pageWhere = page.afterPath ? and(where, gt(machines.path, page.afterPath)) : where;
  const [rows, [count]] = await Promise.all([
    db.select().from(machines).where(pageWhere).orderBy(asc(machines.path)).limit(page.limit),
    db.select({ n: sql<number>`count(*)::int` }).from(machines).where(where),
  ]);
  return { rows, totalCount: count?.n ?? 0 };
}

/** The asset path or topic (first two levels: enterprise/site) lies in one of these sites. */
export function inSites(path: SQL | AnyColumn, sites: readonly string[]): SQL {
  if (sites.length === 0) return sql`false`;
  return sql`(split_part(${path}, '/', 1) || '/' || split_part(${path}, '/', 2)) in (${sql.join(
    sites.map((site) => sql`${site}`),
    sql`, `,
  )})`;
}

export async function machineByPath(db: DbOrTx, path: string): Promise<MachineRow | undefined> {
  const [row] = await db.select().from(machines).where(eq(machines.path, path));
  return row;
}

/** Everything the MQTT binding index needs, in one read. */
export interface BindingRow {
  dataPointId: number;
  machineId: number;
  machinePath: string;
  name: string;
  dataType: DataPointRow["dataType"];
  mqttTopic: string | null;
  mqttField: string | null;
  sparkplugGroup: string | null;
  sparkplugNode: string | null;
  sparkplugDevice: string | null;
  sparkplugMetric: string | null;
}

export function listBindings(db: DbOrTx): Promise<BindingRow[]> {
  return db
    .select({
      dataPointId: dataPoints.id,
      machineId: machines.id,
      machinePath: machines.path,
      name: dataPoints.name,
      dataType: dataPoints.dataType,
      mqttTopic: dataPoints.mqttTopic,
      mqttField: dataPoints.mqttField,
      sparkplugGroup: dataPoints.sparkplugGroup,
      sparkplugNode: dataPoints.sparkplugNode,
      sparkplugDevice: dataPoints.sparkplugDevice,
      sparkplugMetric: dataPoints.sparkplugMetric,
    })
    .from(dataPoints)
    .innerJoin(machines, eq(machines.id, dataPoints.machineId))
    .orderBy(asc(dataPoints.id));
}

/** A level of the hierarchy with the machines under it (a machine: itself), in one query. */
export interface AssetMachines {
  siteId: number;
  /** enterprise/site, for the scope check. */
  sitePath: string;
  timezone: string;
  /** The line of a line or a machine. */
  lineId?: number;
  /** Every line under it (a machine: its own). */
  lineIds: number[];
  machineIds: number[];
}

const assetFilter = { Site: "s.id", Area: "a.id", Line: "l.id", Machine: "m.id" } as const;

/**
 * One statement per level, sent as a named prepared statement (planned once per connection): every
 * KPI, capacity and order query starts here.
 */
export async function machinesUnder(database: Database, level: "Site" | "Area" | "Line" | "Machine", id: number): Promise<AssetMachines | undefined> {
  const { rows } = await database.query<{ site_id: number; enterprise: string; site: string; timezone: string; line_id: number | null; machine_id: number | null }>(
    `select s.id as site_id, e.name as enterprise, s.name as site, s.timezone, l.id as line_id, m.id as machine_id
       from site s join enterprise e on e.id = s.enterprise_id
       left join area a on a.site_id = s.id left join line l on l.area_id = a.id left join machine m on m.line_id = l.id
      where ${assetFilter[level]} = $1`,
    [id],
    { name: `machines_under_${level.toLowerCase()}` },
  );
  const [first] = rows;
  if (!first) return undefined;
  return {
    siteId: first.site_id,
    sitePath: `${first.enterprise}/${first.site}`,
    timezone: first.timezone,
    lineId: level === "Line" || level === "Machine" ? (first.line_id ?? undefined) : undefined,
    lineIds: [...new Set(rows.flatMap((r) => (r.line_id === null ? [] : [r.line_id])))],
    machineIds: rows.flatMap((r) => (r.machine_id === null ? [] : [r.machine_id])),
  };
}
