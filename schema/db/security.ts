import { sql } from "drizzle-orm";
import { bigserial, check, index, integer, jsonb, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";

/** Access roles, from least to most privileged in the asset model (auditor reads, never writes). */
export const accessRoles = ["viewer", "operator", "technician", "planner", "engineer", "auditor", "admin"] as const;
export type AccessRole = (typeof accessRoles)[number];

/**
 * API keys for machines and integrations. The secret is shown once at creation; only its SHA-256
 * is kept. `prefix` (public, unique) finds the row without scanning; `sites` null means all sites.
 */
export const apiKeys = pgTable(
  "api_key",
  {
    id: serial("id").primaryKey(),
    name: text("name").notNull(),
    prefix: text("prefix").notNull().unique(),
    secretHash: text("secret_hash").notNull(),
    role: text("role", { enum: accessRoles }).notNull(),
    /** "enterprise/site" paths the key may see; null: every site. */
    sites: text("sites").array(),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [check("api_key_role", sql`${t.role} in ('viewer', 'operator', 'technician', 'planner', 'engineer', 'auditor', 'admin')`)],
);

/**
 * Security-relevant actions: sign-in failures, keys created or revoked, denied operations.
 * Append-only by convention here; the tamper-evident audit trail extends it later.
 */
export const securityEvents = pgTable(
  "security_event",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    action: text("action").notNull(),
    /** Who acted: "user:<sub>", "key:<id>", "cli", or "anonymous". */
    actor: text("actor").notNull(),
    outcome: text("outcome", { enum: ["success", "failure", "denied"] }).notNull(),
    resource: text("resource"),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull().default({}),
    requestId: text("request_id"),
  },
  (t) => [index("security_event_at").on(t.at), index("security_event_action_at").on(t.action, t.at)],
);

/**
 * A connection to an external work tool. `config` holds what may be shown; credentials live only
 * in `secrets_ciphertext` (AES-256-GCM under the key named by `secrets_key_id`).
 */
export const integrations = pgTable("integration", {
  id: serial("id").primaryKey(),
  kind: text("kind").notNull(),
  name: text("name").notNull().unique(),
  /** "enterprise/site" the integration serves; null: every site. */
  site: text("site"),
  config: jsonb("config").$type<Record<string, unknown>>().notNull().default({}),
  secretsCiphertext: text("secrets_ciphertext").notNull(),
  secretsKeyId: text("secrets_key_id").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  version: integer("version").notNull().default(1),
  /** Health, kept by the workers: the last call that worked and the last that failed. */
  lastSuccessAt: timestamp("last_success_at", { withTimezone: true }),
  lastErrorAt: timestamp("last_error_at", { withTimezone: true }),
  lastError: text("last_error"),
  /** When the last successful status poll started: the next poll asks for changes since then. */
  polledAt: timestamp("polled_at", { withTimezone: true }),
});
