import { DateTime } from "luxon";
import { z } from "zod";

/**
 * A shift calendar as the plant file and GraphQL state it: weekly shifts with breaks in the
 * site's local time, holidays (local dates) and planned windows (absolute times). One schema for
 * both, so they accept exactly the same things.
 */

export const weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'expected a time of day "HH:MM"' });
const localDate = z.string().refine((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && DateTime.fromISO(d).isValid, { message: 'expected a date "YYYY-MM-DD"' });
const instant = z.string().refine((d) => DateTime.fromISO(d, { setZone: true }).isValid && /[zZ]|[+-]\d{2}:?\d{2}$/.test(d), {
  message: "expected an ISO 8601 time with its offset, e.g. 2026-11-25T13:00:00+01:00",
});

const plannedStopReason = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, { message: "expected a reason code: lower-case letters, digits and '_'" });

export const shiftSpec = z
  .strictObject({
    name: z.string().trim().min(1).max(64),
    days: z.array(z.enum(weekdays)).min(1).default([...weekdays.slice(0, 5)]),
    /** Local start; a shift ending at or before its start ends the next day (a night shift). */
    start: clock,
    end: clock,
    breaks: z.array(z.strictObject({ start: clock, end: clock })).default([]),
  })
  .refine((s) => s.start !== s.end, { message: "a shift must not start and end at the same time", path: ["end"] });

export const plannedWindowSpec = z
  .strictObject({
    from: instant,
    to: instant,
    reason: plannedStopReason.default("planned_maintenance"),
    /** Names of the machines it stops; all of the calendar's machines when left out. */
    machines: z.array(z.string().min(1)).optional(),
  })
  .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: "a planned window must end after it starts", path: ["to"] });

export const calendarSpec = z.strictObject({
  shifts: z.array(shiftSpec).max(20).default([]),
  holidays: z.array(localDate).max(400).default([]),
  plannedWindows: z.array(plannedWindowSpec).max(1000).default([]),
});
export type CalendarSpec = z.output<typeof calendarSpec>;
export type CalendarInput = z.input<typeof calendarSpec>;
export type ShiftSpec = z.output<typeof shiftSpec>;

/** Planned-stop reasons outside planned operation time (POT); every other planned stop is planned down time (PDOT). */
export const outsideOperationReasons = ["no_shift", "holiday"] as const;
