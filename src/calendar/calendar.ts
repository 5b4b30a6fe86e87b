import { DateTime } from "luxon";
import { weekdays, type CalendarSpec } from "./calendar.schema.js";

/** A stretch of planned stop: [from, to) in epoch ms with its reason. */
export interface PlannedStop {
  from: number;
  to: number;
  reason: string;
}

/** One occurrence of a shift, in absolute time. */
export interface ShiftOccurrence {
  name: string;
  /** The local date the shift starts on. */
  date: string;
  from: number;
  to: number;
  breaks: { from: number; to: number }[];
  holiday: boolean;
}

/**
 * The shifts of a calendar starting between `from` − 1 day and `to`, in absolute time. Local wall
 * times are resolved in the site's zone by luxon: across a daylight-saving change a night shift
 * lasts an hour more or less, and a time that does not exist (spring forward) moves forward.
 */
export function shiftOccurrences(spec: CalendarSpec, zone: string, from: number, to: number): ShiftOccurrence[] {
  const holidays = new Set(spec.holidays);
  const out: ShiftOccurrence[] = [];
  let day = DateTime.fromMillis(from, { zone }).startOf("day").minus({ days: 1 });
  const last = DateTime.fromMillis(to, { zone }).startOf("day");
  for (; day <= last; day = day.plus({ days: 1 })) {
    const date = day.toISODate()!;
    const weekday = weekdays[day.weekday - 1]!;
    for (const shift of spec.shifts) {
      if (!shift.days.includes(weekday)) continue;
      const start = at(date, shift.start, zone);
      const end = wallAfter(date, shift.start, shift.end, zone, true);
      if (end <= from || start >= to) continue;
      const breaks = shift.breaks.map((b) => ({ from: wallAfter(date, shift.start, b.start, zone, false), to: wallAfter(date, shift.start, b.end, zone, true) })).filter((b) => b.to > b.from);
      out.push({ name: shift.name, date, from: start, to: end, breaks, holiday: holidays.has(date) });
    }
  }
  return out.sort((a, b) => a.from - b.from);
}

/**
 * The planned stops of a machine in [from, to), sorted, adjacent and never overlapping. Precedence
 * where they overlap: a planned window, then a holiday, then a break, then "no_shift" (outside
 * every shift). A calendar without shifts plans every hour (no stops but its planned windows).
 */
export function plannedStops(spec: CalendarSpec, zone: string, from: number, to: number, machineName?: string): PlannedStop[] {
  if (to <= from) return [];
  const shifts = shiftOccurrences(spec, zone, from, to);
  const windows = spec.plannedWindows
    .filter((w) => !w.machines || (machineName !== undefined && w.machines.includes(machineName)))
    .map((w) => ({ from: Date.parse(w.from), to: Date.parse(w.to), reason: w.reason }))
    .filter((w) => w.to > from && w.from < to);
  const alwaysPlanned = spec.shifts.length === 0;
  const cuts = new Set<number>([from, to]);
  for (const s of shifts) [s.from, s.to, ...s.breaks.flatMap((b) => [b.from, b.to])].forEach((t) => cuts.add(t));
  for (const w of windows) [w.from, w.to].forEach((t) => cuts.add(t));
  const points = [...cuts].filter((t) => t >= from && t <= to).sort((a, b) => a - b);

  const stops: PlannedStop[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i]!, points[i + 1]!];
    const reason = reasonAt(a, shifts, windows, alwaysPlanned);
    if (reason === undefined) continue;
    const previous = stops.at(-1);
    if (previous && previous.to === a && previous.reason === reason) previous.to = b;
    else stops.push({ from: a, to: b, reason });
  }
  return stops;
}

/** The complement of the planned stops in [from, to): when the machine is planned to produce. */
export function plannedProductionWindows(stops: readonly PlannedStop[], from: number, to: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  let cursor = from;
  for (const stop of stops) {
    if (stop.from > cursor) out.push({ from: cursor, to: Math.min(stop.from, to) });
    cursor = Math.max(cursor, stop.to);
  }
  if (cursor < to) out.push({ from: cursor, to });
  return out.filter((w) => w.to > w.from);
}

function reasonAt(t: number, shifts: readonly ShiftOccurrence[], windows: readonly PlannedStop[], alwaysPlanned: boolean): string | undefined {
  const window = windows.find((w) => w.from <= t && t < w.to);
  if (window) return window.reason;
  if (alwaysPlanned) return undefined;
  const inShift = shifts.filter((s) => s.from <= t && t < s.to);
  if (inShift.length === 0) return "no_shift";
  const working = inShift.filter((s) => !s.holiday);
  if (working.length === 0) return "holiday";
  if (working.every((s) => s.breaks.some((b) => b.from <= t && t < b.to))) return "break";
  return undefined;
}

function at(date: string, time: string, zone: string): number {
  return DateTime.fromISO(`${date}T${time}`, { zone }).toMillis();
}

/**
 * A wall time of the shift that starts on `date` at `start`: on the next day when earlier than the
 * start (or equal, for an end).
 */
function wallAfter(date: string, start: string, time: string, zone: string, isEnd: boolean): number {
  const nextDay = isEnd ? time <= start : time < start;
  const day = nextDay ? DateTime.fromISO(date, { zone }).plus({ days: 1 }).toISODate()! : date;
  return at(day, time, zone);
}
