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
import { machineContexts } from "../events/event-context.js";
import type { EventWriter } from "../events/event.store.js";
import { machineQueues, type OrderRow } from "./order.service.js";
import { consume, type TimeWindow } from "./schedule.js";

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
  /** When the machine is free of its queue (undefined: beyond the horizon). */
  freeAt?: number;
}

/**
 * Planned production windows (every planned stop out) and shift windows (breaks, holidays and
 * time outside shifts out, planned windows left in), computed once per distinct calendar: the
 * machines of a line share theirs.
 */
export function windowsFor(calendars: Iterable<MachineCalendar>, from: number, to: number): Map<number, { production: TimeWindow[]; shifts: TimeWindow[] }> {
  const cache = new Map<string, { production: TimeWindow[]; shifts: TimeWindow[] }>();
  const out = new Map<number, { production: TimeWindow[]; shifts: TimeWindow[] }>();
  for (const c of calendars) {
    const perMachine = c.spec?.plannedWindows.some((w) => w.machines) ?? false;
    const key = `${c.zone}|${perMachine ? c.machineName : ""}|${c.spec ? canonicalJson(c.spec) : ""}`;
    let windows = cache.get(key);
    if (!windows) {
      windows = c.spec
        ? {
            production: plannedProductionWindows(plannedStops(c.spec, c.zone, from, to, c.machineName), from, to),
            shifts: plannedProductionWindows(plannedStops({ ...c.spec, plannedWindows: [] }, c.zone, from, to), from, to),
          }
        : { production: [{ from, to }], shifts: [{ from, to }] };
      cache.set(key, windows);
    }
    out.set(c.machineId, windows);
  }
  return out;
}

/**
 * Each machine's queue laid on its calendar from `now`: an order needs (quantity − good) × the
 * seconds per good part the machine actually achieved over the last 8 hours of planned time
 * (its ideal cycle time until it has counted enough parts), consumed from the planned production
 * windows after the orders before it.
 */
export async function machineSchedules(db: DbOrTx, machineIds: readonly number[], now: number): Promise<Map<number, MachineSchedule>> {
  if (machineIds.length === 0) return new Map();
  const [calendars, configs, queues, inputs] = await Promise.all([
    machineCalendars(db, machineIds),
    stateConfigs(db, machineIds),
    machineQueues(db, machineIds),
    machineKpiInputs(db, machineIds, now - RATE_WINDOW_MS, now, now),
  ]);
  const windows = windowsFor(calendars.values(), now, now + SCHEDULE_HORIZON_MS);
  const statesOf = new Map<number, MachineStateSeconds[]>();
  for (const s of inputs.states) {
    const list = statesOf.get(s.machineId) ?? [];
    list.push(s);
    statesOf.set(s.machineId, list);
  }
  const out = new Map<number, MachineSchedule>();
  for (const machineId of machineIds) {
    const calendar = calendars.get(machineId);
    if (!calendar) continue;
    const config = configs.get(machineId)!;
    const kpis = computeKpis(statesOf.get(machineId) ?? [], inputs.counts.get(machineId) ?? noCounts);
    const actual = kpis.goodQuantity >= RATE_MIN_PARTS ? kpis.plannedBusyTime / kpis.goodQuantity : undefined;
    const { production: machineWindows, shifts: shiftWindows } = windows.get(machineId)!;
    let cursor: number | undefined = now;
    const orders: ScheduledOrder[] = [];
    for (const order of queues.get(machineId) ?? []) {
      const ideal = idealCycleSeconds(config, order.product);
      const rate: Rate | undefined = actual !== undefined ? { secondsPerGood: actual, basis: "actual" } : ideal !== undefined ? { secondsPerGood: ideal, basis: "ideal" } : undefined;
      const remaining = Math.max(0, order.quantity - order.good);
      if (cursor === undefined || rate === undefined) {
        orders.push({ order, rate, remaining, start: cursor ?? now, segments: [] });
        cursor = undefined;
        continue;
      }
      const run = consume(machineWindows, cursor, remaining * rate.secondsPerGood);
      orders.push({ order, rate, remaining, start: run.segments[0]?.from ?? cursor, finish: run.finish, segments: run.segments });
      cursor = run.finish;
    }
    out.set(machineId, { machineId, calendar, config, windows: machineWindows, shiftWindows, actualSecondsPerGood: actual, orders, freeAt: cursor });
  }
  return out;
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
 * Stores every open order's projection of the machines; an order that becomes at risk records
 * `order.at_risk` once (until it is back on time). Orders of a line with no machine assigned are
 * not projected.
 */
export async function refreshProjections(tx: Tx, writer: EventWriter, machineIds: readonly number[], now: number): Promise<Map<number, MachineSchedule>> {
  const schedules = await machineSchedules(tx, machineIds, now);
  const newlyAtRisk: { order: OrderRow; reason: string }[] = [];
  for (const schedule of schedules.values()) {
    for (const s of schedule.orders) {
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
  }
  if (newlyAtRisk.length > 0) {
    const machines = await machineContexts(tx, newlyAtRisk.map((r) => r.order.machineId!));
    await writer.recordMany(
      newlyAtRisk.map(({ order, reason }) => ({
        event: {
          kind: "order.at_risk" as const,
          at: new Date(now),
          machineId: order.machineId,
          severity: "warning" as const,
          message: `order ${order.number} at risk: ${reason}`,
          detail: { orderId: order.id, number: order.number, product: order.product, dueAt: order.dueAt.toISOString(), reason },
        },
        facts: { machine: machines.get(order.machineId!) },
      })),
    );
  }
  return schedules;
}
