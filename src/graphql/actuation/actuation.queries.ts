import { and, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { actuationRequests, machineMethods, type ActuationStatus } from "../../../schema/db/actuation.js";
import { dataPoints, machines } from "../../../schema/db/assets.js";
import { inSites } from "../../assets/asset.queries.js";
import type { ActuationRow } from "../../actuation/actuation.service.js";
import type { DbOrTx } from "../../db/database.js";
import { countAll, newestFirstPage } from "../../db/keyset-page.js";

/** A request with the name of its target: a data point or a method. */
export interface ActuationWithPoint {
  request: ActuationRow;
  point: string | null;
  method: string | null;
}

export interface ActuationFilter {
  machineId?: number;
  statuses?: readonly ActuationStatus[];
  /** Only writes to machines of these sites; undefined: every site. */
  sites?: readonly string[];
}

const selection = { request: actuationRequests, point: dataPoints.name, method: machineMethods.name };

/** Requests with their target's name: exactly one of the two joins finds a row. */
const withTargets = (db: DbOrTx) =>
  db
    .select(selection)
    .from(actuationRequests)
    .leftJoin(dataPoints, eq(dataPoints.id, actuationRequests.dataPointId))
    .leftJoin(machineMethods, eq(machineMethods.id, actuationRequests.methodId));

function conditionsOf(filter: ActuationFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.machineId !== undefined) conditions.push(eq(actuationRequests.machineId, filter.machineId));
  if (filter.statuses) conditions.push(filter.statuses.length ? inArray(actuationRequests.status, [...filter.statuses]) : sql`false`);
  if (filter.sites) conditions.push(inSites(machines.path, filter.sites));
  return conditions;
}

/** Keyset page of setpoint writes and method calls, newest first. */
export function pageActuations(db: DbOrTx, filter: ActuationFilter, page: { beforeId?: number; limit: number }): Promise<{ rows: ActuationWithPoint[]; totalCount: number }> {
  return newestFirstPage(
    actuationRequests.id,
    and(...conditionsOf(filter)),
    page.beforeId,
    (pageWhere) =>
      withTargets(db)
        .innerJoin(machines, eq(machines.id, actuationRequests.machineId))
        .where(pageWhere)
        .orderBy(desc(actuationRequests.id))
        .limit(page.limit),
    (where) => db.select(countAll).from(actuationRequests).innerJoin(machines, eq(machines.id, actuationRequests.machineId)).where(where),
  );
}

export async function actuationById(db: DbOrTx, id: number): Promise<ActuationWithPoint | undefined> {
  const [row] = await withTargets(db).where(eq(actuationRequests.id, id));
  return row;
}
