import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { plannedProductionWindows, plannedStops, shiftOccurrences } from "../../src/calendar/calendar.js";
import { calendarSpec } from "../../src/calendar/calendar.schema.js";

const zone = "Europe/Berlin";
const at = (iso: string) => DateTime.fromISO(iso, { zone }).toMillis();
const hours = (ms: number) => ms / 3_600_000;
const night = calendarSpec.parse({ shifts: [{ name: "night", days: ["sat"], start: "22:00", end: "06:00", breaks: [{ start: "02:00", end: "02:30" }] }] });

describe("shift calendar across daylight-saving changes (Europe/Berlin)", () => {
  it("a night shift is 7 hours when the clocks go forward (2026-03-29)", () => {
    const [shift] = shiftOccurrences(night, zone, at("2026-03-28T12:00"), at("2026-03-29T12:00"));
    expect(shift).toMatchObject({ name: "night", date: "2026-03-28" });
    expect(hours(shift!.to - shift!.from)).toBe(7);
    expect(new Date(shift!.from).toISOString()).toBe("2026-03-28T21:00:00.000Z");
    expect(new Date(shift!.to).toISOString()).toBe("2026-03-29T04:00:00.000Z");
    // The break at 02:00 local does not exist that night: it moves to 03:00 (an hour later in wall time).
    expect(shift!.breaks.map((b) => hours(b.to - b.from))).toEqual([0.5]);
  });

  it("a night shift is 9 hours when the clocks go back (2026-10-25)", () => {
    const [shift] = shiftOccurrences(night, zone, at("2026-10-24T12:00"), at("2026-10-25T12:00"));
    expect(hours(shift!.to - shift!.from)).toBe(9);
    const stops = plannedStops(night, zone, at("2026-10-24T12:00"), at("2026-10-25T12:00"));
    const planned = plannedProductionWindows(stops, at("2026-10-24T12:00"), at("2026-10-25T12:00"));
    expect(hours(planned.reduce((t, w) => t + w.to - w.from, 0))).toBe(8.5);
    // Noon to noon lasts 25 hours that weekend: 25 h minus 8.5 h planned.
    expect(hours(stops.reduce((t, s) => t + s.to - s.from, 0))).toBe(25 - 8.5);
  });

  it("tiles [from, to) with planned stops and planned production, reasons by precedence", () => {
    const spec = calendarSpec.parse({
      shifts: [{ name: "day", days: ["mon", "tue", "wed", "thu", "fri"], start: "06:00", end: "14:00", breaks: [{ start: "10:00", end: "10:30" }] }],
      holidays: ["2026-12-25"],
      plannedWindows: [{ from: "2026-12-24T09:00:00+01:00", to: "2026-12-24T11:00:00+01:00" }],
    });
    const from = at("2026-12-24T00:00");
    const to = at("2026-12-26T00:00");
    const stops = plannedStops(spec, zone, from, to);
    expect(stops.map((s) => [DateTime.fromMillis(s.from, { zone }).toFormat("dd HH:mm"), DateTime.fromMillis(s.to, { zone }).toFormat("dd HH:mm"), s.reason])).toEqual([
      ["24 00:00", "24 06:00", "no_shift"],
      ["24 09:00", "24 11:00", "planned_maintenance"],
      ["24 14:00", "25 06:00", "no_shift"],
      ["25 06:00", "25 14:00", "holiday"],
      ["25 14:00", "26 00:00", "no_shift"],
    ]);
    const planned = plannedProductionWindows(stops, from, to);
    expect(planned.reduce((t, w) => t + w.to - w.from, 0) + stops.reduce((t, s) => t + s.to - s.from, 0)).toBe(to - from);
  });

  it("rejects a calendar with clear messages", () => {
    const result = calendarSpec.safeParse({ shifts: [{ name: "x", start: "25:00", end: "06:00" }], holidays: ["2026-13-01"], plannedWindows: [{ from: "2026-01-01T10:00:00Z", to: "2026-01-01T09:00:00Z" }] });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([
      'shifts.0.start: expected a time of day "HH:MM"',
      'holidays.0: expected a date "YYYY-MM-DD"',
      "plannedWindows.0.to: a planned window must end after it starts",
    ]);
  });
});
