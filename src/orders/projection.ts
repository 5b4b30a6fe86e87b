import { eq, sql } from "drizzle-orm";
import { productionOrders } from "../../schema/db/orders.js";
import { computeKpis } from "../availability/kpi.js";
import { machineKpiInputs, noCounts, type MachineStateSeconds } from "../availability/kpi.queries.js";
import { canonicalJson } from "../db/canonical-json.js";
import { idealCycleSeconds, type EffectiveStateConfig } from "../availability/state-config.js";
import { stateConfigs } from "../availability/state-config.service.js";
import { plannedProductionWindows, plannedStops } from "../calendar/calendar.js";
import { machineCalendars, type MachineCalendar } from "../calendar/calendar.service.js";
import type { DbOrTx, Tx } from "../db/database.js";
import { lineContexts, machineContexts } from "../events/event-context.js";
import type { EventWriter } from "../events/event.store.js";
import { lineQueues, machineQueues, type OrderRow } from "./order.service.js";
import { consume, intersectWindows, type TimeWindow } from "./schedule.js";

/** How far ahead orders are scheduled; work beyond it has no projected completion. */
export const SCHEDULE_HORIZON_MS = 60 * 86_400_000;
/** The window the actual rate is measured over, and the good parts it needs to count. */
export const RATE_WINDOW_MS = 8 * 3_600_000;
export const RATE_MIN_PARTS = 10;

/** Seconds of planned production time per good part, and where the figure comes from. */
export interface Rate {
  secondsPerGood: number;
  basis: "actual" | "ideal";
}

export interface ScheduledOrder {
  order: OrderRow;
  rate?: Rate;
  remaining: number;
  start: number;
  finish?: number;
  segments: TimeWindow[];
}

export interface MachineSchedule {
  machineId: number;
  calendar: MachineCalendar;
  config: EffectiveStateConfig;
  /** Planned production windows from now over the horizon. */
  windows: TimeWindow[];
  /** Shift time from now over the horizon (planned windows left in). */
  shiftWindows: TimeWindow[];
  /** Measured over the last RATE_WINDOW_MS: planned busy time per good part. */
  actualSecondsPerGood?: number;
  orders: ScheduledOrder[];
  /** The orders of its line that name no machine: they occupy every machine of the line, after the machines' own queues. */
  lineOrders: ScheduledOrder[];
  /** When the machine is free of its queue and its line's (undefined: beyond the horizon). */
  freeAt?: number;
}

type CalendarWindows = { production: TimeWindow[]; shifts: TimeWindow[] };

const HOUR_MS = 3_600_000;
/** Windows per calendar, computed once an hour: laying 60 days of shifts out costs milliseconds per calendar. */
const hourlyWindows = new Map<string, CalendarWindows>();
const HOURLY_WINDOWS_KEPT = 256;

/**
 * Planned production windows (every planned stop out) and shift windows (breaks, holidays and
 * time outside shifts out, planned windows left in) over [from, to), computed once per distinct
 * calendar (the machines of a line share theirs) and hour (a request cuts them to its range).
 * A changed calendar is another key: nothing needs to be forgotten when one is saved.
 */
export function windowsFor(calendars: Iterable<MachineCalendar>, from: number, to: number): Map<number, CalendarWindows> {
  const hour = Math.floor(from / HOUR_MS) * HOUR_MS;
  const until = hour + HOUR_MS + (to - from);
  const out = new Map<number, CalendarWindows>();
  for (const c of calendars) {
    const perMachine = c.spec?.plannedWindows.some((w) => w.machines) ?? false;
    const key = `${hour}|${to - from}|${c.zone}|${perMachine ? c.machineName : ""}|${c.spec ? canonicalJson(c.spec) : ""}`;
    let windows = hourlyWindows.get(key);
    if (!windows) {
      windows = c.spec
        ? {
            production: plannedProductionWindows(plannedStops(c.spec, c.zone, hour, until, c.machineName), hour, until),
            shifts: plannedProductionWindows(plannedStops({ ...c.spec, plannedWindows: [] }, c.zone, hour, until), hour, until),
          }
        : { production: [{ from: hour, to: until }], shifts: [{ from: hour, to: until }] };
      // Insertion order is age order: the first key is the oldest.
      if (hourlyWindows.size >= HOURLY_WINDOWS_KEPT) hourlyWindows.delete(hourlyWindows.keys().next().value!);
      hourlyWindows.set(key, windows);
    }
    out.set(c.machineId, { production: cut(windows.production, from, to), shifts: cut(windows.shifts, from, to) });
  }
  return out;
}

function cut(windows: readonly TimeWindow[], from: number, to: number): TimeWindow[] {
  return windows.filter((w) => w.to > from && w.from < to).map((w) => ({ from: Math.max(w.from, from), to: Math.min(w.to, to) }));
}

/** A machine's seconds per good part of a product: what it achieved recently, else its ideal cycle time. */
export function machineRate(actualSecondsPerGood: number | undefined, config: EffectiveStateConfig, product: string): Rate | undefined {
  if (actualSecondsPerGood !== undefined) return { secondsPerGood: actualSecondsPerGood, basis: "actual" };
  const ideal = idealCycleSeconds(config, product);
  return ideal === undefined ? undefined : { secondsPerGood: ideal, basis: "ideal" };
}

/**
 * A queue laid on production windows from `start` (undefined: the work before it runs past the
 * horizon), one order after the other. Returns when it is done (undefined: beyond the horizon or
 * an order without a rate).
 */
function layOut(queue: readonly OrderRow[], windows: readonly TimeWindow[], start: number | undefined, now: number, rateOf: (product: string) => Rate | undefined): { orders: ScheduledOrder[]; freeAt?: number } {
  let cursor = start;
  const orders: ScheduledOrder[] = [];
  for (const order of queue) {
    const rate = rateOf(order.product);
    const remaining = Math.max(0, order.quantity - order.good);
    if (cursor === undefined || rate === undefined) {
      orders.push({ order, rate, remaining, start: cursor ?? now, segments: [] });
      cursor = undefined;
      continue;
    }
    const run = consume(windows, cursor, remaining * rate.secondsPerGood);
    orders.push({ order, rate, remaining, start: run.segments[0]?.from ?? cursor, finish: run.finish, segments: run.segments });
    cursor = run.finish;
  }
  return { orders, freeAt: cursor };
}

/**
 * Each machine's queue laid on its calendar from `now`: an order needs (quantity − good) × the
 * seconds per good part the machine actually achieved over the last 8 hours of planned time
 * (its ideal cycle time until it has counted enough parts), consumed from the planned production
 * windows after the orders before it. Then each line's orders that name no machine, see
 * scheduleLineOrders; the machines of such a line are read even when not asked for.
 */
export async function machineSchedules(db: DbOrTx, machineIds: readonly number[], now: number): Promise<Map<number, MachineSchedule>> {
  if (machineIds.length === 0) return new Map();
  const lines = await lineQueues(db, machineIds);
  const ids = [...new Set([...machineIds, ...[...lines.values()].flatMap((l) => l.machineIds)])];
  const [calendars, configs, queues, inputs] = await Promise.all([
    machineCalendars(db, ids),
    stateConfigs(db, ids),
    machineQueues(db, ids),
    machineKpiInputs(db, ids, now - RATE_WINDOW_MS, now, now),
  ]);
  const windows = windowsFor(calendars.values(), now, now + SCHEDULE_HORIZON_MS);
  const statesOf = new Map<number, MachineStateSeconds[]>();
  for (const s of inputs.states) {
    const list = statesOf.get(s.machineId) ?? [];
    list.push(s);
    statesOf.set(s.machineId, list);
  }
  const out = new Map<number, MachineSchedule>();
  for (const machineId of ids) {
    const calendar = calendars.get(machineId);
    if (!calendar) continue;
    const config = configs.get(machineId)!;
    const kpis = computeKpis(statesOf.get(machineId) ?? [], inputs.counts.get(machineId) ?? noCounts);
    const actual = kpis.goodQuantity >= RATE_MIN_PARTS ? kpis.plannedBusyTime / kpis.goodQuantity : undefined;
    const { production: machineWindows, shifts: shiftWindows } = windows.get(machineId)!;
    const { orders, freeAt } = layOut(queues.get(machineId) ?? [], machineWindows, now, now, (product) => machineRate(actual, config, product));
    out.set(machineId, { machineId, calendar, config, windows: machineWindows, shiftWindows, actualSecondsPerGood: actual, orders, lineOrders: [], freeAt });
  }
  for (const line of lines.values()) scheduleLineOrders(line.orders, line.machineIds.flatMap((id) => out.get(id) ?? []), now);
  return new Map(machineIds.flatMap((id) => (out.has(id) ? [[id, out.get(id)!] as const] : [])));
}

/**
 * A line's orders that name no machine. The machines of a line work in series (every part passes
 * each of them), so the line makes parts at the pace of its bottleneck: the slowest rate for the
 * product among its machines that have one. The line produces only while all its machines are
 * planned to (the intersection of their production windows), and its orders start once every
 * machine's own queue is done: work assigned to a machine is committed first. The orders then
 * occupy every machine of the line, which are free again when the last one finishes.
 */
export function scheduleLineOrders(queue: readonly OrderRow[], schedules: readonly MachineSchedule[], now: number): void {
  if (schedules.length === 0) return;
  const windows = intersectWindows(schedules.map((s) => s.windows));
  const start = schedules.some((s) => s.freeAt === undefined) ? undefined : Math.max(...schedules.map((s) => s.freeAt!));
  const bottleneck = (product: string) =>
    schedules
      .map((s) => machineRate(s.actualSecondsPerGood, s.config, product))
      .reduce<Rate | undefined>((slowest, rate) => (rate && (!slowest || rate.secondsPerGood > slowest.secondsPerGood) ? rate : slowest), undefined);
  const { orders, freeAt } = layOut(queue, windows, start, now, bottleneck);
  for (const s of schedules) {
    s.lineOrders = orders;
    s.freeAt = freeAt;
  }
}

/** Why an order is at risk, or undefined when its projection meets the due date. */
export function riskOf(s: ScheduledOrder): string | undefined {
  const due = s.order.dueAt.getTime();
  if (!s.rate) return "no rate known: the machine has counted too few parts and no ideal cycle time is set";
  if (s.finish === undefined) return "the work does not fit in the planned production time of the next 60 days";
  if (s.finish <= due) return undefined;
  const late = Math.round((s.finish - due) / 60_000);
  return `projected ${new Date(s.finish).toISOString()}, ${late} min after the due date: ${s.remaining} parts left at ${s.rate.secondsPerGood.toFixed(1)} s per good part (${s.rate.basis})`;
}

/**
 * Stores every open order's projection of the machines (and of their lines' orders that name no
 * machine); an order that becomes at risk records `order.at_risk` once (until it is back on time).
 */
export async function refreshProjections(tx: Tx, writer: EventWriter, machineIds: readonly number[], now: number): Promise<Map<number, MachineSchedule>> {
  const schedules = await machineSchedules(tx, machineIds, now);
  const scheduled = new Map<number, ScheduledOrder>();
  for (const schedule of schedules.values()) for (const s of [...schedule.orders, ...schedule.lineOrders]) scheduled.set(s.order.id, s);
  const newlyAtRisk: { order: OrderRow; reason: string }[] = [];
  for (const s of scheduled.values()) {
    const reason = riskOf(s);
    const projected = s.finish === undefined ? null : new Date(s.finish);
    const unchanged = s.order.atRisk === (reason !== undefined) && s.order.riskReason === (reason ?? null) && s.order.projectedCompletionAt?.getTime() === projected?.getTime();
    if (unchanged) continue;
    await tx
      .update(productionOrders)
      .set({ projectedCompletionAt: projected, atRisk: reason !== undefined, riskReason: reason ?? null, updatedAt: sql`now()` })
      .where(eq(productionOrders.id, s.order.id));
    if (reason !== undefined && !s.order.atRisk) newlyAtRisk.push({ order: s.order, reason });
  }
  if (newlyAtRisk.length > 0) {
    const [machines, lines] = await Promise.all([
      machineContexts(tx, newlyAtRisk.flatMap(({ order }) => (order.machineId === null ? [] : [order.machineId]))),
      lineContexts(tx, newlyAtRisk.flatMap(({ order }) => (order.machineId === null && order.lineId !== null ? [order.lineId] : []))),
    ]);
    await writer.recordMany(
      newlyAtRisk.map(({ order, reason }) => ({
        event: {
          kind: "order.at_risk" as const,
          at: new Date(now),
          machineId: order.machineId,
          severity: "warning" as const,
          message: `order ${order.number} at risk: ${reason}`,
          detail: { orderId: order.id, number: order.number, product: order.product, dueAt: order.dueAt.toISOString(), reason, ...(order.machineId === null ? { lineId: String(order.lineId) } : {}) },
        },
        facts: { machine: order.machineId === null ? lines.get(order.lineId!) : machines.get(order.machineId) },
      })),
    );
  }
  return schedules;
}
