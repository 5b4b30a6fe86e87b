import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { areas, lines, machines, sites } from "../../schema/db/assets.js";
import { shiftCalendars } from "../../schema/db/calendar.js";
import { recordAudit } from "../audit/audit.js";
import type { CalendarLookup } from "../availability/state-engine.js";
import type { ChangeKind } from "../assets/asset.service.js";
import { canonicalJson } from "../db/canonical-json.js";
import type { DbOrTx, Tx } from "../db/database.js";
import { plannedStops } from "./calendar.js";
import { calendarSpec, type CalendarSpec } from "./calendar.schema.js";

/** The calendar that applies to a machine: its line's, else its site's, else none (always planned). */
export interface MachineCalendar {
  machineId: number;
  machineName: string;
  lineId: number;
  siteId: number;
  zone: string;
  spec?: CalendarSpec;
}

export async function machineCalendars(db: DbOrTx, machineIds?: readonly number[]): Promise<Map<number, MachineCalendar>> {
  const rows = await db
    .select({ machineId: machines.id, machineName: machines.name, lineId: lines.id, siteId: sites.id, zone: sites.timezone })
    .from(machines)
    .innerJoin(lines, eq(lines.id, machines.lineId))
    .innerJoin(areas, eq(areas.id, lines.areaId))
    .innerJoin(sites, eq(sites.id, areas.siteId))
    .where(machineIds ? inArray(machines.id, [...machineIds]) : undefined);
  const siteIds = [...new Set(rows.map((r) => r.siteId))];
  const calendars = siteIds.length === 0 ? [] : await db.select().from(shiftCalendars).where(inArray(shiftCalendars.siteId, siteIds));
  const bySite = new Map(calendars.filter((c) => c.lineId === null).map((c) => [c.siteId, calendarSpec.parse(c.spec)]));
  const byLine = new Map(calendars.filter((c) => c.lineId !== null).map((c) => [c.lineId!, calendarSpec.parse(c.spec)]));
  return new Map(rows.map((r) => [r.machineId, { ...r, spec: byLine.get(r.lineId) ?? bySite.get(r.siteId) }]));
}

const LOOKBACK_MS = 86_400_000;
const LOOKAHEAD_MS = 7 * 86_400_000;

/**
 * The engine's view of a calendar: planned stops are computed for a week at a time and looked
 * up by time. Without a calendar a machine is planned around the clock.
 */
export function calendarLookup(calendar: Pick<MachineCalendar, "spec" | "zone" | "machineName">): CalendarLookup {
  const { spec } = calendar;
  if (!spec) return () => ({ until: Number.POSITIVE_INFINITY });
  let window = { from: 0, to: 0, stops: [] as ReturnType<typeof plannedStops> };
  return (t) => {
    if (t < window.from || t >= window.to) {
      window = { from: t - LOOKBACK_MS, to: t + LOOKAHEAD_MS, stops: plannedStops(spec, calendar.zone, t - LOOKBACK_MS, t + LOOKAHEAD_MS, calendar.machineName) };
    }
    const stop = window.stops.find((s) => s.from <= t && t < s.to);
    if (stop) return { reason: stop.reason, until: stop.to };
    const next = window.stops.find((s) => s.from > t);
    return { until: next?.from ?? window.to };
  };
}

/** Creates, replaces or leaves alone the calendar of a site (lineId undefined) or of one of its lines. */
export async function saveCalendar(tx: Tx, target: { siteId: number; lineId?: number }, spec: CalendarSpec, actor: string, requestId?: string): Promise<ChangeKind> {
  const where = and(eq(shiftCalendars.siteId, target.siteId), target.lineId === undefined ? isNull(shiftCalendars.lineId) : eq(shiftCalendars.lineId, target.lineId));
  const [existing] = await tx.select().from(shiftCalendars).where(where).for("update");
  if (existing && canonicalJson(existing.spec) === canonicalJson(spec)) return "unchanged";
  if (existing) await tx.update(shiftCalendars).set({ spec, updatedAt: sql`now()` }).where(eq(shiftCalendars.id, existing.id));
  else await tx.insert(shiftCalendars).values({ siteId: target.siteId, lineId: target.lineId ?? null, spec });
  await recordAudit(tx, {
    actor,
    action: "calendar.saved",
    entityType: target.lineId === undefined ? "site" : "line",
    entityId: target.lineId ?? target.siteId,
    oldValue: (existing?.spec as Record<string, unknown> | undefined) ?? null,
    newValue: spec,
    requestId,
  });
  return existing ? "updated" : "created";
}

export async function calendarOf(db: DbOrTx, target: { siteId: number; lineId?: number }): Promise<CalendarSpec | undefined> {
  const where = and(eq(shiftCalendars.siteId, target.siteId), target.lineId === undefined ? isNull(shiftCalendars.lineId) : eq(shiftCalendars.lineId, target.lineId));
  const [row] = await db.select().from(shiftCalendars).where(where);
  return row ? calendarSpec.parse(row.spec) : undefined;
}
