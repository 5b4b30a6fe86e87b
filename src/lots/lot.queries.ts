import { and, asc, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { alarms, events } from "../../schema/db/events.js";
import { lotComponents, lots, qualityResults, type LotStatus } from "../../schema/db/lots.js";
import { inSites } from "../assets/asset.queries.js";
import { execute, type DbOrTx } from "../db/database.js";
import { countAll, newestFirstPage } from "../db/keyset-page.js";
import { watermark } from "../lifecycle/rollups.js";
import { ceilTo, floorTo, HOUR_MS, MINUTE_MS } from "../telemetry/time-steps.js";
import type { LotRow } from "./lot.service.js";

export const traceDirections = ["BACKWARD", "FORWARD"] as const;
/** BACKWARD: the lots it was made from, and theirs. FORWARD: the lots made from it, and theirs. */
export type TraceDirection = (typeof traceDirections)[number];

/** Deeper genealogies are cut here; links are never followed back into the path, so loops end too. */
export const MAX_TRACE_DEPTH = 100;

export interface TracedLot {
  lotId: number;
  /** Steps from the lot traced (0 is itself); a lot reached by several paths has its shortest. */
  depth: number;
}

/** The genealogy of `lotId` in one direction, the lot itself first, by depth. */
export async function traceLots(db: DbOrTx, lotId: number, direction: TraceDirection): Promise<TracedLot[]> {
  const [from, to] = direction === "BACKWARD" ? ["lot_id", "parent_lot_id"] : ["parent_lot_id", "lot_id"];
  const { rows } = await execute<{ lot_id: number | string; depth: number }>(
    db,
    sql`with recursive walk(lot_id, depth, path) as (
          select ${lotId}::bigint, 0, array[${lotId}::bigint]
          union all
          select c.${sql.raw(to)}, w.depth + 1, w.path || c.${sql.raw(to)}
          from walk w join lot_component c on c.${sql.raw(from)} = w.lot_id
          where c.${sql.raw(to)} <> all(w.path) and w.depth < ${MAX_TRACE_DEPTH}
        )
        select lot_id, min(depth)::int as depth from walk group by lot_id order by 2, 1`,
  );
  return rows.map((r) => ({ lotId: Number(r.lot_id), depth: r.depth }));
}

export async function traceLotIds(db: DbOrTx, lotId: number, direction: TraceDirection): Promise<number[]> {
  return (await traceLots(db, lotId, direction)).map((t) => t.lotId);
}

export async function lotById(db: DbOrTx, id: number): Promise<LotRow | undefined> {
  const [row] = await db.select().from(lots).where(eq(lots.id, id));
  return row;
}

/** A lot by its code, or else by its id: what people type on the command line. */
export async function lotByCodeOrId(db: DbOrTx, codeOrId: string): Promise<LotRow | undefined> {
  const [byCode] = await db.select().from(lots).where(eq(lots.code, codeOrId));
  return byCode ?? (/^\d{1,15}$/.test(codeOrId) ? lotById(db, Number(codeOrId)) : undefined);
}

export async function lotsByIds(db: DbOrTx, ids: readonly number[]): Promise<LotRow[]> {
  return ids.length === 0 ? [] : db.select().from(lots).where(inArray(lots.id, [...ids]));
}

export interface LotFilter {
  machineId?: number;
  code?: string;
  status?: LotStatus;
  onHold?: boolean;
  /** Only lots made in these sites; undefined: every site. */
  sites?: readonly string[];
}

/** Keyset page of lots, newest first. */
export async function pageLots(db: DbOrTx, filter: LotFilter, page: { beforeId?: number; limit: number }): Promise<{ rows: LotRow[]; totalCount: number }> {
  const conditions: SQL[] = [];
  if (filter.machineId !== undefined) conditions.push(eq(lots.machineId, filter.machineId));
  if (filter.code !== undefined) conditions.push(eq(lots.code, filter.code));
  if (filter.status !== undefined) conditions.push(eq(lots.status, filter.status));
  if (filter.onHold !== undefined) conditions.push(eq(lots.onHold, filter.onHold));
  if (filter.sites) conditions.push(inSites(lots.machinePath, filter.sites));
  return newestFirstPage(
    lots.id,
    and(...conditions),
    page.beforeId,
    (pageWhere) => db.select().from(lots).where(pageWhere).orderBy(desc(lots.id)).limit(page.limit),
    (where) => db.select(countAll).from(lots).where(where),
  );
}

export type LotLinkRow = typeof lotComponents.$inferSelect;

/** Links of a lot: the lots it consumed (`parents`) or the lots that consumed it (`consumers`). */
export async function lotLinks(db: DbOrTx, lotId: number, side: "parents" | "consumers"): Promise<LotLinkRow[]> {
  const column = side === "parents" ? lotComponents.lotId : lotComponents.parentLotId;
  return db.select().from(lotComponents).where(eq(column, lotId)).orderBy(asc(lotComponents.consumedAt), asc(lotComponents.id));
}

/** Every link among the given lots (the edges of a trace). */
export async function linksAmong(db: DbOrTx, lotIds: readonly number[]): Promise<LotLinkRow[]> {
  if (lotIds.length === 0) return [];
  return db
    .select()
    .from(lotComponents)
    .where(and(inArray(lotComponents.lotId, [...lotIds]), inArray(lotComponents.parentLotId, [...lotIds])))
    .orderBy(asc(lotComponents.id));
}

export type QualityResultRow = typeof qualityResults.$inferSelect;

export async function qualityResultsOf(db: DbOrTx, lotId: number): Promise<QualityResultRow[]> {
  return db.select().from(qualityResults).where(eq(qualityResults.lotId, lotId)).orderBy(asc(qualityResults.recordedAt), asc(qualityResults.id));
}

/**
 * The batch record, as a release signature covers it: the lot row, the lots consumed into it and
 * its quality results. The lots made from it later are not part of it.
 */
export type LotBatchRecord = { lot: LotRow; components: LotLinkRow[]; qualityResults: QualityResultRow[] };

export async function lotBatchRecord(db: DbOrTx, lotId: number): Promise<LotBatchRecord | undefined> {
  const lot = await lotById(db, lotId);
  return lot && { lot, components: await lotLinks(db, lotId, "parents"), qualityResults: await qualityResultsOf(db, lotId) };
}

/** A lot's window: from its start to its end, or to now while it runs. */
const windowOf = (lot: LotRow) => ({ from: lot.startedAt, to: lot.endedAt ?? new Date() });

export interface ParameterSummary {
  dataPointId: number;
  name: string;
  unit: string | null;
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  first: number | null;
  last: number | null;
}

/**
 * The process parameters recorded while the lot ran: per data point of its machine, a summary of
 * the readings in its window. Whole hours and minutes come from the rollups as far as they are
 * complete (they outlive the raw readings), the rest from raw readings, including those kept for
 * a held lot after their partition expired.
 */
export async function lotParameters(db: DbOrTx, lot: LotRow): Promise<ParameterSummary[]> {
  if (lot.machineId === null) return [];
  const { from, to } = windowOf(lot);
  const [minuteMark, hourMark] = [(await watermark(db, "1m")) ?? new Date(0), (await watermark(db, "1h")) ?? new Date(0)];
  const iso = (date: Date) => date.toISOString();
  const hours = { from: iso(ceilTo(from, HOUR_MS)), to: iso(new Date(Math.min(floorTo(to, HOUR_MS).getTime(), hourMark.getTime()))) };
  const minutes = { from: iso(ceilTo(from, MINUTE_MS)), to: iso(new Date(Math.min(floorTo(to, MINUTE_MS).getTime(), minuteMark.getTime()))) };
  const points = sql`data_point_id in (select id from data_point where machine_id = ${lot.machineId})`;
  const window = sql`${points} and ts >= ${iso(from)} and ts <= ${iso(to)}`;
  const rollupColumns = sql`data_point_id, min, max, sum, count, first_value, first_ts, last_value, last_ts`;
  // Hours lie within the minutes' range (the hour rollup is made from the minute rollup).
  const { rows } = await execute<ParameterSummary & Record<string, unknown>>(
    db,
    sql`with parts as (
          select ${rollupColumns} from telemetry_rollup_1h
          where ${points} and bucket >= ${hours.from} and bucket < ${hours.to}
          union all
          select ${rollupColumns} from telemetry_rollup_1m
          where ${points} and bucket >= ${minutes.from} and bucket < ${minutes.to} and not (bucket >= ${hours.from} and bucket < ${hours.to})
          union all
          select data_point_id, value, value, value, 1, value, ts, value, ts from (
            select data_point_id, ts, value from telemetry where ${window}
            union
            select data_point_id, ts, value from telemetry_held where ${window}
          ) raw
          where not (ts >= ${minutes.from} and ts < ${minutes.to})
        )
        select p.id as "dataPointId", p.name, p.unit, coalesce(sum(r.count), 0)::int as count, min(r.min) as min, max(r.max) as max,
               sum(r.sum) / nullif(sum(r.count), 0) as avg,
               (array_agg(r.first_value order by r.first_ts))[1] as first, (array_agg(r.last_value order by r.last_ts desc))[1] as last
        from data_point p left join parts r on r.data_point_id = p.id
        where p.machine_id = ${lot.machineId}
        group by p.id, p.name, p.unit
        order by p.name`,
  );
  return rows;
}

export type LotEventRow = typeof events.$inferSelect;

/** Alarms, deviations and other events raised on the lot's machine while it ran, oldest first. */
export async function lotEvents(db: DbOrTx, lot: LotRow): Promise<LotEventRow[]> {
  if (lot.machineId === null) return [];
  const { from, to } = windowOf(lot);
  return db
    .select()
    .from(events)
    .where(and(eq(events.machineId, lot.machineId), sql`${events.at} >= ${from.toISOString()}`, sql`${events.at} <= ${to.toISOString()}`))
    .orderBy(asc(events.at), asc(events.id));
}

export interface LotOperatorRow {
  identity: string;
  /** started, ended, consumed, quality, hold. */
  did: string[];
}

/** Who started, ended, fed, tested or held the lot. */
export async function lotOperators(db: DbOrTx, lot: LotRow): Promise<LotOperatorRow[]> {
  const did = new Map<string, Set<string>>();
  const add = (identity: string | null, what: string) => identity && (did.get(identity) ?? did.set(identity, new Set()).get(identity)!).add(what);
  add(lot.startedBy, "started");
  add(lot.endedBy, "ended");
  add(lot.holdChangedBy, "hold");
  for (const link of await lotLinks(db, lot.id, "parents")) add(link.recordedBy, "consumed");
  for (const result of await qualityResultsOf(db, lot.id)) add(result.recordedBy, "quality");
  return [...did].map(([identity, what]) => ({ identity, did: [...what] }));
}

export type LotAlarmRow = typeof alarms.$inferSelect;

/** The alarms of the given events (a lot's), oldest first. */
export async function alarmsOfEvents(db: DbOrTx, lotEvents: readonly LotEventRow[]): Promise<LotAlarmRow[]> {
  const ids = [...new Set(lotEvents.flatMap((e) => (e.alarmId === null ? [] : [e.alarmId])))];
  return ids.length === 0 ? [] : db.select().from(alarms).where(inArray(alarms.id, ids)).orderBy(asc(alarms.id));
}
