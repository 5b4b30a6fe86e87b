import { bigserial, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The audit trail: who did what to which record, when, old and new values, why. `action` is one of
 * the closed list in src/audit/audit-actions.ts. Rows are written in the same transaction as the
 * change they describe.
 */
export const auditEntries = pgTable(
  "audit_entry",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** "user:<sub>", "key:<id>", "system:<component>", "tool:<integration id>:<person>", "cli". */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id").notNull(),
    oldValue: jsonb("old_value").$type<Record<string, unknown>>(),
    newValue: jsonb("new_value").$type<Record<string, unknown>>(),
    reason: text("reason"),
    requestId: text("request_id"),
  },
  (t) => [index("audit_entry_entity").on(t.entityType, t.entityId, t.id), index("audit_entry_at").on(t.at)],
);
