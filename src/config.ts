import path from "node:path";
import { z } from "zod";

/**
 * The only reader of process.env. Parsed once at boot; a bad value stops the process with a
 * message naming the variable and what it expects.
 */

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .refine(
      (value) => value === undefined || protocols.some((p) => value.startsWith(`${p}://`)),
      { message: `expected a URL starting with ${protocols.map((p) => `${p}://`).join(" or ")}` },
    );

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
  .transform((value) => value === "true" || value === "1" || value === "yes");

const positiveInt = (fallback: number, max: number) =>
  z.coerce
    .number({ message: "expected a whole number" })
    .int({ message: "expected a whole number" })
    .min(1, { message: "expected a number of at least 1" })
    .max(max, { message: `expected a number of at most ${max}` })
    .default(fallback);

const envFields = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: optionalUrl(["postgres", "postgresql"]),
  DATA_DIR: z.string().min(1).default("./data"),
  REDIS_URL: optionalUrl(["redis", "rediss"]),
  MQTT_URL: optionalUrl(["mqtt", "mqtts", "tcp", "ws", "wss"]),
  MQTT_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: "expected 1-64 letters, digits, '_', '.' or '-'" })
    .default("plantgraph-ingest"),
  MQTT_SESSION_EXPIRY_SECONDS: positiveInt(86_400, 4_294_967_295),
  MQTT_RECEIVE_MAXIMUM: positiveInt(20_000, 65_535),
  // The Sparkplug B host application id: its STATE topic is spBv1.0/STATE/<id>.
  SPARKPLUG_HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: "expected 1-64 letters, digits, '_', '.' or '-'" })
    .default("plantgraph"),
  // How long a setpoint write waits for the machine to report the value back.
  ACTUATION_READBACK_SECONDS: positiveInt(10, 600),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce
    .number({ message: "expected a TCP port number" })
    .int({ message: "expected a TCP port number" })
    .min(0, { message: "expected a TCP port number from 0 to 65535" })
    .max(65_535, { message: "expected a TCP port number from 0 to 65535" })
    .default(4000),
  PLANT_FILE: z.string().min(1).optional(),
  SIMULATOR: booleanFlag.optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  TELEMETRY_BATCH_MAX: positiveInt(10_000, 60_000),
  TELEMETRY_FLUSH_MS: positiveInt(20, 10_000),
  TELEMETRY_WRITE_CONNECTIONS: positiveInt(3, 8),
  MACHINE_OFFLINE_AFTER_SECONDS: positiveInt(60, 86_400),
  // Jobs (BullMQ): key prefix, parallel actions per connector queue, polling and reconcile cadence.
  JOBS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: "expected 1-64 letters, digits, '_', '.' or '-' (no ':')" })
    .default("plantgraph"),
  WORKER_CONCURRENCY: positiveInt(200, 1_000),
  POLL_INTERVAL_SECONDS: positiveInt(60, 86_400),
  RECONCILE_EVERY_SECONDS: positiveInt(30, 86_400),
  RECONCILE_AFTER_SECONDS: positiveInt(30, 86_400),
  // Data lifecycle: days kept per resolution (site and data point policies override), job cadence.
  RETENTION_RAW_DAYS: positiveInt(30, 36_500),
  RETENTION_MINUTE_DAYS: positiveInt(180, 36_500),
  RETENTION_HOUR_DAYS: positiveInt(1_825, 36_500),
  ROLLUP_EVERY_SECONDS: positiveInt(60, 86_400),
  RETENTION_EVERY_SECONDS: positiveInt(3_600, 86_400),
  // A job whose worker died is taken up again after this long (BullMQ lock duration).
  JOBS_LOCK_SECONDS: positiveInt(30, 3_600),
  // Per-kind overrides of the connectors' rate limits, "jira=50/1,slack=1/1" (calls per seconds).
  CONNECTOR_RATE_LIMITS: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*=\d+\/\d+(,[a-z][a-z0-9_-]*=\d+\/\d+)*$/, { message: 'expected kind=calls/seconds pairs, e.g. "jira=50/1,slack=1/1"' })
    .optional(),
  // People: OIDC bearer tokens.
  OIDC_ISSUER: optionalUrl(["https", "http"]),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_JWKS_URL: optionalUrl(["https", "http"]),
  OIDC_ROLE_CLAIM: z.string().min(1).default("plantgraph_role"),
  OIDC_SITES_CLAIM: z.string().min(1).default("plantgraph_sites"),
  OIDC_CLOCK_SKEW_SECONDS: z.coerce.number({ message: "expected seconds" }).int().min(0).max(600).default(60),
  // Secrets at rest: "id:base64key,..." (32-byte keys), the first one encrypts.
  SECRETS_KEYS: z
    .string()
    .regex(/^[A-Za-z0-9_-]+:[A-Za-z0-9+/=_-]+(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=_-]+)*$/, {
      message: "expected comma-separated id:base64key pairs, e.g. k1:<32 bytes in base64>",
    })
    .optional(),
  // GraphQL limits.
  GRAPHQL_MAX_DEPTH: positiveInt(12, 100),
  GRAPHQL_MAX_COST: positiveInt(5_000, 1_000_000),
  GRAPHQL_MAX_ALIASES: positiveInt(15, 1_000),
  GRAPHQL_MAX_DIRECTIVES: positiveInt(10, 1_000),
  GRAPHQL_MAX_TOKENS: positiveInt(2_000, 100_000),
  RATE_LIMIT_PER_MINUTE: positiveInt(1_200, 1_000_000),
  // The CLI's identity for commands that change or reveal data.
  PLANTGRAPH_API_KEY: z.string().min(1).optional(),
  // Transport security.
  HTTPS_CERT_FILE: z.string().min(1).optional(),
  HTTPS_KEY_FILE: z.string().min(1).optional(),
  MQTT_CA_FILE: z.string().min(1).optional(),
  MQTT_CERT_FILE: z.string().min(1).optional(),
  MQTT_KEY_FILE: z.string().min(1).optional(),
  DATABASE_CA_FILE: z.string().min(1).optional(),
  // OPC UA: the hub's application certificate and its trust list of server certificates.
  OPCUA_PKI_DIR: z.string().min(1).default(".pki/opcua"),
  // Audit trail: the hub's Ed25519 key, where signed checkpoints go, where exports are written.
  AUDIT_KEY_FILE: z.string().min(1).optional(),
  AUDIT_CHECKPOINT_DIR: z.string().min(1).optional(),
  AUDIT_CHECKPOINT_URL: optionalUrl(["https", "http"]),
  AUDIT_CHECKPOINT_EVERY_SECONDS: positiveInt(300, 86_400),
  AUDIT_EXPORT_DIR: z.string().min(1).optional(),
  // Electronic signatures: how recent the signer's authentication must be.
  SIGNATURE_MAX_AUTH_AGE_SECONDS: positiveInt(300, 3_600),
});

/** Settings that only make sense together. */
const envSchema = envFields.superRefine((e, ctx) => {
  if (e.OIDC_ISSUER && !e.OIDC_AUDIENCE) {
    ctx.addIssue({ code: "custom", path: ["OIDC_AUDIENCE"], message: "expected the audience your tokens carry, since OIDC_ISSUER is set" });
  }
  if (Boolean(e.HTTPS_CERT_FILE) !== Boolean(e.HTTPS_KEY_FILE)) {
    ctx.addIssue({ code: "custom", path: [e.HTTPS_CERT_FILE ? "HTTPS_KEY_FILE" : "HTTPS_CERT_FILE"], message: "expected both HTTPS_CERT_FILE and HTTPS_KEY_FILE, or neither" });
  }
  if (Boolean(e.MQTT_CERT_FILE) !== Boolean(e.MQTT_KEY_FILE)) {
    ctx.addIssue({ code: "custom", path: [e.MQTT_CERT_FILE ? "MQTT_KEY_FILE" : "MQTT_CERT_FILE"], message: "expected both MQTT_CERT_FILE and MQTT_KEY_FILE (a client certificate), or neither" });
  }
});

export type Role = "api" | "ingest" | "worker";
export const allRoles: readonly Role[] = ["api", "ingest", "worker"];

export interface Config {
  readonly env: "development" | "production" | "test";
  readonly database: { readonly url?: string; readonly dataDir: string };
  readonly redisUrl?: string;
  readonly mqtt: {
    /** Absent: the hub runs an embedded broker (the demo). */
    readonly url?: string;
    readonly clientId: string;
    readonly sessionExpirySeconds: number;
    readonly receiveMaximum: number;
  };
  readonly sparkplug: { readonly hostId: string };
  readonly actuation: { readonly readBackTimeoutMs: number };
  readonly http: { readonly host: string; readonly port: number };
  readonly plantFile?: string;
  /** Runs the simulated plant; on by default only when no broker is configured. */
  readonly simulator: boolean;
  readonly logLevel: string;
  /** `writeConnections`: batches written at once on PostgreSQL (PGlite has one connection). */
  readonly telemetry: { readonly batchMax: number; readonly flushMs: number; readonly writeConnections: number };
  readonly machineOfflineAfterSeconds: number;
  readonly jobs: {
    readonly prefix: string;
    readonly concurrency: number;
    readonly pollIntervalSeconds: number;
    readonly reconcileEverySeconds: number;
    /** Pending actions older than this are re-enqueued. */
    readonly reconcileAfterSeconds: number;
    readonly lockSeconds: number;
    /** Rate limits replacing a connector's own, by kind. */
    readonly rateLimits: Readonly<Record<string, { readonly max: number; readonly durationMs: number }>>;
  };
  readonly lifecycle: {
    /** Days kept where neither the data point nor its site has a policy. */
    readonly retention: { readonly rawDays: number; readonly minuteDays: number; readonly hourDays: number };
    readonly rollupEverySeconds: number;
    /** How often expiry runs and partitions are made ahead. */
    readonly retentionEverySeconds: number;
  };
  readonly oidc?: {
    readonly issuer: string;
    readonly audience: string;
    /** Absent: discovered from the issuer's /.well-known/openid-configuration. */
    readonly jwksUrl?: string;
    readonly roleClaim: string;
    readonly sitesClaim: string;
    readonly clockSkewSeconds: number;
  };
  /** The API key the CLI acts with (PLANTGRAPH_API_KEY). */
  readonly cliApiKey?: string;
  /** Raw keyring text; parsed by the secret box, which owns its format's meaning. */
  readonly secretsKeys?: string;
  readonly graphqlLimits: {
    readonly maxDepth: number;
    readonly maxCost: number;
    readonly maxAliases: number;
    readonly maxDirectives: number;
    readonly maxTokens: number;
    readonly ratePerMinute: number;
  };
  /** `pkiDir`: the hub's OPC UA client certificate and the server certificates it trusts. */
  readonly opcua: { readonly pkiDir: string };
  readonly audit: {
    readonly keyFile: string;
    readonly checkpointDir: string;
    /** Also POST each checkpoint here. */
    readonly checkpointUrl?: string;
    readonly checkpointEverySeconds: number;
    readonly exportDir: string;
    readonly signatureMaxAuthAgeSeconds: number;
  };
  readonly tls: {
    readonly https?: { readonly certFile: string; readonly keyFile: string };
    readonly mqtt: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
    readonly databaseCaFile?: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Variables whose values are key material: an error names them but never repeats them. */
const secretVariables = new Set(["SECRETS_KEYS", "PLANTGRAPH_API_KEY"]);

export function parseConfig(env: Record<string, string | undefined>): Config {
  // `PORT=` in an env file means "not set", not port 0.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ""));
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? "environment");
        const given = env[variable];
        const shown = given === undefined || secretVariables.has(variable) ? "" : ` (got ${JSON.stringify(redactUrl(given))})`;
        return `${variable}: ${issue.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;
  return Object.freeze({
    env: e.NODE_ENV,
    database: Object.freeze({ url: e.DATABASE_URL, dataDir: e.DATA_DIR }),
    redisUrl: e.REDIS_URL,
    mqtt: Object.freeze({
      url: e.MQTT_URL,
      clientId: e.MQTT_CLIENT_ID,
      sessionExpirySeconds: e.MQTT_SESSION_EXPIRY_SECONDS,
      receiveMaximum: e.MQTT_RECEIVE_MAXIMUM,
    }),
    sparkplug: Object.freeze({ hostId: e.SPARKPLUG_HOST_ID }),
    actuation: Object.freeze({ readBackTimeoutMs: e.ACTUATION_READBACK_SECONDS * 1000 }),
    http: Object.freeze({ host: e.HOST, port: e.PORT }),
    plantFile: e.PLANT_FILE,
    simulator: e.SIMULATOR ?? e.MQTT_URL === undefined,
    logLevel: e.LOG_LEVEL,
    telemetry: Object.freeze({ batchMax: e.TELEMETRY_BATCH_MAX, flushMs: e.TELEMETRY_FLUSH_MS, writeConnections: e.TELEMETRY_WRITE_CONNECTIONS }),
    machineOfflineAfterSeconds: e.MACHINE_OFFLINE_AFTER_SECONDS,
    jobs: Object.freeze({
      prefix: e.JOBS_PREFIX,
      concurrency: e.WORKER_CONCURRENCY,
      pollIntervalSeconds: e.POLL_INTERVAL_SECONDS,
      reconcileEverySeconds: e.RECONCILE_EVERY_SECONDS,
      reconcileAfterSeconds: e.RECONCILE_AFTER_SECONDS,
      lockSeconds: e.JOBS_LOCK_SECONDS,
      rateLimits: Object.freeze(parseRateLimits(e.CONNECTOR_RATE_LIMITS)),
    }),
    lifecycle: Object.freeze({
      retention: Object.freeze({ rawDays: e.RETENTION_RAW_DAYS, minuteDays: e.RETENTION_MINUTE_DAYS, hourDays: e.RETENTION_HOUR_DAYS }),
      rollupEverySeconds: e.ROLLUP_EVERY_SECONDS,
      retentionEverySeconds: e.RETENTION_EVERY_SECONDS,
    }),
    oidc: e.OIDC_ISSUER
      ? Object.freeze({
          issuer: e.OIDC_ISSUER,
          audience: e.OIDC_AUDIENCE!,
          jwksUrl: e.OIDC_JWKS_URL,
          roleClaim: e.OIDC_ROLE_CLAIM,
          sitesClaim: e.OIDC_SITES_CLAIM,
          clockSkewSeconds: e.OIDC_CLOCK_SKEW_SECONDS,
        })
      : undefined,
    cliApiKey: e.PLANTGRAPH_API_KEY,
    secretsKeys: e.SECRETS_KEYS,
    graphqlLimits: Object.freeze({
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxCost: e.GRAPHQL_MAX_COST,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      ratePerMinute: e.RATE_LIMIT_PER_MINUTE,
    }),
    opcua: Object.freeze({ pkiDir: e.OPCUA_PKI_DIR }),
    audit: Object.freeze({
      keyFile: e.AUDIT_KEY_FILE ?? path.join(e.DATA_DIR, "keys", "audit-ed25519.pem"),
      checkpointDir: e.AUDIT_CHECKPOINT_DIR ?? path.join(e.DATA_DIR, "audit", "checkpoints"),
      checkpointUrl: e.AUDIT_CHECKPOINT_URL,
      checkpointEverySeconds: e.AUDIT_CHECKPOINT_EVERY_SECONDS,
      exportDir: e.AUDIT_EXPORT_DIR ?? path.join(e.DATA_DIR, "audit", "exports"),
      signatureMaxAuthAgeSeconds: e.SIGNATURE_MAX_AUTH_AGE_SECONDS,
    }),
    tls: Object.freeze({
      https: e.HTTPS_CERT_FILE && e.HTTPS_KEY_FILE ? Object.freeze({ certFile: e.HTTPS_CERT_FILE, keyFile: e.HTTPS_KEY_FILE }) : undefined,
      mqtt: Object.freeze({ caFile: e.MQTT_CA_FILE, certFile: e.MQTT_CERT_FILE, keyFile: e.MQTT_KEY_FILE }),
      databaseCaFile: e.DATABASE_CA_FILE,
    }),
  });
}

function parseRateLimits(text: string | undefined): Record<string, { max: number; durationMs: number }> {
  if (!text) return {};
  return Object.fromEntries(
    text.split(",").map((pair) => {
      const [kind, rate] = pair.split("=") as [string, string];
      const [max, seconds] = rate.split("/").map(Number) as [number, number];
      return [kind, { max: Math.max(1, max), durationMs: Math.max(1, seconds) * 1000 }];
    }),
  );
}

/** Passwords in connection URLs never reach an error message or a log line. */
export function redactUrl(value: string): string {
  // Up to the last '@': passwords may hold unencoded '@' or '/', users may be empty.
  return value.replace(/(\/\/[^:/@]*:).*@/, "$1***@");
}

export function loadConfig(): Config {
  return parseConfig(process.env);
}
