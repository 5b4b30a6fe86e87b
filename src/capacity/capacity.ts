import { DateTime } from "luxon";
import { machineRate, type MachineSchedule } from "../orders/projection.js";
import { consume, overlapMs } from "../orders/schedule.js";

/** A machine's capacity over a horizon, in seconds. */
export interface MachineCapacity {
  machineId: number;
  /** Shift time without breaks and holidays. */
  availableSeconds: number;
  /** Planned windows (maintenance) inside that time. */
  plannedMaintenanceSeconds: number;
  /** Production time the queued orders take inside the horizon. */
  committedSeconds: number;
  /** available − planned maintenance − committed; negative when overbooked. */
  spareSeconds: number;
}

/**
 * Capacity from `from` (or now, when later: the past has no capacity left) to `to`, from the
 * machine's schedule (its planned production windows and its orders laid on them).
 */
export function machineCapacity(schedule: MachineSchedule, from: number, to: number, now: number): MachineCapacity {
  const start = Math.max(from, now);
  if (to <= start) return { machineId: schedule.machineId, availableSeconds: 0, plannedMaintenanceSeconds: 0, committedSeconds: 0, spareSeconds: 0 };
  const productive = overlapMs(schedule.windows, start, to);
  const shiftTime = overlapMs(schedule.shiftWindows, start, to);
  const committed = [...schedule.orders, ...schedule.lineOrders].reduce((total, o) => total + overlapMs(o.segments, start, to), 0);
  return {
    machineId: schedule.machineId,
    availableSeconds: shiftTime / 1000,
    plannedMaintenanceSeconds: Math.max(0, shiftTime - productive) / 1000,
    committedSeconds: committed / 1000,
    spareSeconds: (productive - committed) / 1000,
  };
}

/** The end of the local day `now` falls in, in the machine's zone. */
export function endOfLocalDay(now: number, zone: string): number {
  return DateTime.fromMillis(now, { zone }).startOf("day").plus({ days: 1 }).toMillis();
}

export interface MachineSuggestion {
  machineId: number;
  rank: number;
  canMeetDue: boolean;
  /** When the job could start (after the machine's queue) and finish. */
  start?: number;
  finish?: number;
  secondsPerGood?: number;
  rateBasis?: "actual" | "ideal";
  spareSecondsUntilDue: number;
  explanation: string;
}

/**
 * Ranks machines for a new job: those that finish it by the due date first, then the earliest
 * finish, then the most spare capacity until the due date. The job goes after each machine's
 * queue at the seconds per good part the machine actually achieves (its ideal cycle time for the
 * product when it has not counted enough).
 */
export function rankMachines(schedules: readonly MachineSchedule[], product: string, quantity: number, due: number, now: number): MachineSuggestion[] {
  const scored = schedules.map((schedule): Omit<MachineSuggestion, "rank"> => {
    const spare = machineCapacity(schedule, now, due, now).spareSeconds;
    const known = machineRate(schedule.actualSecondsPerGood, schedule.config, product);
    const rate = known && { s: known.secondsPerGood, basis: known.basis };
    if (!rate) return { machineId: schedule.machineId, canMeetDue: false, spareSecondsUntilDue: spare, explanation: "no rate known: no parts counted recently and no ideal cycle time for this product" };
    if (schedule.freeAt === undefined) return { machineId: schedule.machineId, canMeetDue: false, spareSecondsUntilDue: spare, secondsPerGood: rate.s, rateBasis: rate.basis, explanation: "its queue already runs past the 60-day horizon" };
    const run = consume(schedule.windows, schedule.freeAt, quantity * rate.s);
    const start = run.segments[0]?.from ?? schedule.freeAt;
    const canMeetDue = run.finish !== undefined && run.finish <= due;
    const queued = schedule.orders.length + schedule.lineOrders.length;
    const hours = (quantity * rate.s) / 3600;
    const finishText = run.finish === undefined ? "does not finish within 60 days" : `finishes ${new Date(run.finish).toISOString()}, ${formatSlack(due - run.finish)} ${run.finish <= due ? "before" : "after"} the due date`;
    const explanation = `free from ${new Date(schedule.freeAt).toISOString()} after ${queued} queued order${queued === 1 ? "" : "s"}; ${quantity} × ${rate.s.toFixed(1)} s (${rate.basis}) = ${hours.toFixed(1)} h of production; ${finishText}; ${(spare / 3600).toFixed(1)} h spare until the due date`;
    return { machineId: schedule.machineId, canMeetDue, start, finish: run.finish, secondsPerGood: rate.s, rateBasis: rate.basis, spareSecondsUntilDue: spare, explanation };
  });
  scored.sort((a, b) => Number(b.canMeetDue) - Number(a.canMeetDue) || (a.finish ?? Infinity) - (b.finish ?? Infinity) || b.spareSecondsUntilDue - a.spareSecondsUntilDue || a.machineId - b.machineId);
  return scored.map((s, i) => ({ ...s, rank: i + 1 }));
}

function formatSlack(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  return minutes >= 120 ? `${(minutes / 60).toFixed(1)} h` : `${minutes} min`;
}

export const capacityHorizons = ["shift", "today", "week"] as const;
export type CapacityHorizon = (typeof capacityHorizons)[number];

/**
 * [now, end) of a named horizon in the site's zone: the shift in progress (empty between shifts),
 * the rest of today, or the rest of this week (to Monday 00:00).
 */
export function horizonRange(horizon: CapacityHorizon, zone: string, now: number, shifts: readonly { from: number; to: number }[]): [number, number] {
  const local = DateTime.fromMillis(now, { zone });
  if (horizon === "today") return [now, local.startOf("day").plus({ days: 1 }).toMillis()];
  if (horizon === "week") return [now, local.startOf("week").plus({ weeks: 1 }).toMillis()];
  const current = shifts.find((s) => s.from <= now && now < s.to);
  return [now, current?.to ?? now];
}
