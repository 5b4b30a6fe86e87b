import { sql } from "drizzle-orm";
import { bigserial, boolean, check, doublePrecision, index, integer, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";
import { dataPoints } from "./assets.js";

export const opcuaSecurityModes = ["None", "Sign", "SignAndEncrypt"] as const;
export type OpcuaSecurityMode = (typeof opcuaSecurityModes)[number];
/** The current policies only: Basic128Rsa15 and Basic256 are deprecated by the OPC Foundation. */
export const opcuaSecurityPolicies = ["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"] as const;
export type OpcuaSecurityPolicy = (typeof opcuaSecurityPolicies)[number];
export const opcuaIdentityKinds = ["anonymous", "username", "x509"] as const;
export type OpcuaIdentityKind = (typeof opcuaIdentityKinds)[number];
export const deadbandTypes = ["none", "absolute", "percent"] as const;
export type DeadbandType = (typeof deadbandTypes)[number];

/**
 * An OPC UA server the hub subscribes to. The password (username identity) or the X.509
 * certificate and private key (x509 identity) live only in `secrets_ciphertext`, sealed like an
 * integration's secrets.
 */
export const opcuaEndpoints = pgTable(
  "opcua_endpoint",
  {
    id: serial("id").primaryKey(),
    name: text("name").notNull().unique(),
    /** "enterprise/site" it serves; null: every site. */
    site: text("site"),
    url: text("url").notNull(),
    securityMode: text("security_mode", { enum: opcuaSecurityModes }).notNull(),
    securityPolicy: text("security_policy", { enum: opcuaSecurityPolicies }).notNull(),
    identity: text("identity", { enum: opcuaIdentityKinds }).notNull().default("anonymous"),
    username: text("username"),
    secretsCiphertext: text("secrets_ciphertext").notNull(),
    secretsKeyId: text("secrets_key_id").notNull(),
    publishingIntervalMs: integer("publishing_interval_ms").notNull().default(1000),
    /** Our own cap per subscription; the server's advertised limit applies when lower. */
    maxItemsPerSubscription: integer("max_items_per_subscription").notNull().default(1000),
    enabled: boolean("enabled").notNull().default(true),
    version: integer("version").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    /** Health, kept by the ingest process that runs the endpoint. */
    connectedAt: timestamp("connected_at", { withTimezone: true }),
    lastErrorAt: timestamp("last_error_at", { withTimezone: true }),
    lastError: text("last_error"),
  },
  (t) => [
    check("opcua_endpoint_security_mode", sql`${t.securityMode} in ('None', 'Sign', 'SignAndEncrypt')`),
    check("opcua_endpoint_security_policy", sql`${t.securityPolicy} in ('None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss')`),
    check("opcua_endpoint_identity", sql`${t.identity} in ('anonymous', 'username', 'x509')`),
    check("opcua_endpoint_security", sql`(${t.securityMode} = 'None') = (${t.securityPolicy} = 'None')`),
    check("opcua_endpoint_username", sql`(${t.identity} = 'username') = (${t.username} is not null)`),
  ],
);

/** Where a data point is read from on an OPC UA server: a NodeId (with its namespace URI) or a browse path. */
export const opcuaBindings = pgTable(
  "opcua_binding",
  {
    dataPointId: integer("data_point_id")
      .primaryKey()
      .references(() => dataPoints.id, { onDelete: "cascade" }),
    endpointId: integer("endpoint_id")
      .notNull()
      .references(() => opcuaEndpoints.id, { onDelete: "cascade" }),
    nodeId: text("node_id"),
    browsePath: text("browse_path"),
    samplingIntervalMs: integer("sampling_interval_ms").notNull().default(1000),
    queueSize: integer("queue_size").notNull().default(1),
    deadbandType: text("deadband_type", { enum: deadbandTypes }).notNull().default("none"),
    deadbandValue: doublePrecision("deadband_value").notNull().default(0),
    /** Why the server refused this item (a bad NodeId, an unknown browse path); null once it works. */
    lastError: text("last_error"),
    lastErrorAt: timestamp("last_error_at", { withTimezone: true }),
  },
  (t) => [
    check("opcua_binding_address", sql`(${t.nodeId} is null) <> (${t.browsePath} is null)`),
    check("opcua_binding_deadband", sql`${t.deadbandType} in ('none', 'absolute', 'percent')`),
    index("opcua_binding_endpoint").on(t.endpointId),
  ],
);

/**
 * A window in which a source delivered nothing (connection lost, session or subscriptions gone):
 * a data-quality event with its start and end, so a gap in a series is explained, not hidden.
 */
export const dataGaps = pgTable(
  "data_gap",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    source: text("source").notNull(),
    endpointId: integer("endpoint_id").references(() => opcuaEndpoints.id, { onDelete: "cascade" }),
    startedAt: timestamp("started_at", { withTimezone: true, precision: 3 }).notNull(),
    /** Null while the gap is open. */
    endedAt: timestamp("ended_at", { withTimezone: true, precision: 3 }),
    reason: text("reason").notNull(),
  },
  (t) => [index("data_gap_endpoint_started").on(t.endpointId, t.startedAt)],
);
