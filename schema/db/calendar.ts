import { check, integer, jsonb, pgTable, serial, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { lines, sites } from "./assets.js";

/**
 * A shift calendar for a site, or for one line of it (a line's own calendar replaces its site's).
 * `spec` holds shifts, breaks, holidays and planned windows (validated by src/calendar/calendar.schema.ts).
 */
export const shiftCalendars = pgTable(
  "shift_calendar",
  {
    id: serial("id").primaryKey(),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    lineId: integer("line_id").references(() => lines.id, { onDelete: "cascade" }),
    spec: jsonb("spec").$type<Record<string, unknown>>().notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("shift_calendar_site").on(t.siteId).where(sql`${t.lineId} is null`),
    uniqueIndex("shift_calendar_line").on(t.lineId).where(sql`${t.lineId} is not null`),
    check("shift_calendar_spec_object", sql`jsonb_typeof(${t.spec}) = 'object'`),
  ],
);
