import type { Config } from "../config.js";
import { queryOf } from "../tls/tls-files.js";

/**
 * `plantgraph doctor`: what in this configuration would let someone read, inject or change data.
 * Pure: the configuration and a few facts read elsewhere (the database, the files) go in, findings
 * come out, so every rule is tested without I/O.
 */

export type Severity = "high" | "medium" | "low";

export interface Finding {
  severity: Severity;
  /** The variable (or variables) to change. */
  setting: string;
  problem: string;
  fix: string;
}

export interface DoctorFacts {
  /** An unrevoked, unexpired API key named "demo-admin" exists; undefined: could not be checked. */
  demoKeyActive?: boolean;
  /** Why the database facts could not be read, when they could not. */
  databaseUnchecked?: string;
  /** Transport files that are missing or wrong, each naming its variable and path. */
  fileProblems?: readonly string[];
  /** Names of enabled OPC UA endpoints read without security (mode None). */
  unsecuredOpcuaEndpoints?: readonly string[];
}

export const DEMO_KEY_NAME = "demo-admin";

/** Beyond these, a limit no longer protects the server; the defaults sit well below. */
export const SANE_MAXIMA = {
  GRAPHQL_MAX_DEPTH: 20,
  GRAPHQL_MAX_COST: 50_000,
  GRAPHQL_MAX_ALIASES: 50,
  GRAPHQL_MAX_DIRECTIVES: 50,
  GRAPHQL_MAX_TOKENS: 10_000,
  RATE_LIMIT_PER_MINUTE: 6_000,
} as const;

const severityOrder: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

export function inspectConfiguration(config: Config, facts: DoctorFacts): Finding[] {
  const findings = [
    ...fileFindings(facts),
    ...mqttFindings(config),
    ...databaseFindings(config),
    ...redisFindings(config),
    ...httpFindings(config),
    ...accessFindings(config, facts),
    ...limitFindings(config),
  ];
  return findings.sort((a, b) => severityOrder[a.severity] - severityOrder[b.severity]);
}

function fileFindings(facts: DoctorFacts): Finding[] {
  return (facts.fileProblems ?? []).map((problem) => {
    const [setting = "transport files", ...rest] = problem.split(": ");
    return { severity: "high", setting, problem: rest.join(": ") || problem, fix: "correct the setting: the hub does not start with it" };
  });
}

function mqttFindings(config: Config): Finding[] {
  const { url } = config.mqtt;
  if (!url) {
    return [
      {
        severity: "high",
        setting: "MQTT_URL",
        problem: "unset: the hub runs its embedded demo broker, plain MQTT without any authentication",
        fix: "run a real broker with TLS and client certificates and set MQTT_URL=mqtts://broker:8883 with MQTT_CA_FILE, MQTT_CERT_FILE and MQTT_KEY_FILE",
      },
    ];
  }
  const findings: Finding[] = [];
  const { host, hasUser } = urlParts(url);
  const tls = url.startsWith("mqtts://") || url.startsWith("wss://");
  const clientCert = Boolean(config.tls.mqtt.certFile);
  if (!tls) {
    const local = isLoopback(host);
    findings.push({
      severity: local ? "medium" : "high",
      setting: "MQTT_URL",
      problem: `${url.split("://")[0]}:// carries readings unencrypted: anyone on the way ${local ? "(the broker is on this machine, but its listeners may not be)" : `to ${host}`} can read and forge them`,
      fix: "give the broker a TLS listener and use mqtts:// (or wss://), with MQTT_CA_FILE naming its CA",
    });
  } else if (!clientCert && hasUser) {
    findings.push({
      severity: "low",
      setting: "MQTT_CERT_FILE",
      problem: "the hub signs in to the broker with a password, no client certificate",
      fix: "issue the hub a client certificate, set MQTT_CERT_FILE and MQTT_KEY_FILE, and let the broker require certificates",
    });
  }
  if (!hasUser && !clientCert) {
    findings.push({
      severity: "high",
      setting: "MQTT_URL",
      problem: "the hub connects to the broker anonymously, so the broker admits anonymous clients: anyone who reaches it can publish readings",
      fix: "turn anonymous access off on the broker (allow_anonymous false) and give the hub a client certificate (MQTT_CERT_FILE, MQTT_KEY_FILE) or a user in MQTT_URL",
    });
  }
  return findings;
}

/** Parameters that make pg encrypt and verify the server (it treats require like verify-full). */
const PG_TLS_MODES = ["require", "verify-ca", "verify-full"];

function databaseFindings(config: Config): Finding[] {
  const { url } = config.database;
  if (!url || isLoopback(urlParts(url).host) || config.tls.databaseCaFile) return [];
  const params = queryOf(url);
  const sslmode = params.get("sslmode");
  if ((sslmode && PG_TLS_MODES.includes(sslmode)) || params.get("ssl") === "true" || params.get("ssl") === "1") return [];
  return [
    {
      severity: "high",
      setting: "DATABASE_URL",
      problem: `the connection to PostgreSQL on ${urlParts(url).host} ${sslmode ? `has sslmode=${sslmode}, which does not demand verified TLS` : "does not use TLS"}: credentials and data may cross the network in the clear`,
      fix: "turn ssl on in PostgreSQL and add ?sslmode=verify-full to DATABASE_URL; set DATABASE_CA_FILE when its certificate comes from a private CA",
    },
  ];
}

function redisFindings(config: Config): Finding[] {
  const url = config.redisUrl;
  if (!url) return [];
  const { host, hasPassword } = urlParts(url);
  if (isLoopback(host)) return [];
  const tls = url.startsWith("rediss://");
  if (tls && hasPassword) return [];
  const missing = [tls ? undefined : "TLS", hasPassword ? undefined : "a password"].filter(Boolean).join(" or ");
  return [
    {
      severity: tls || hasPassword ? "medium" : "high",
      setting: "REDIS_URL",
      problem: `Redis on ${host} is used without ${missing}: whoever reaches it can read job data and publish events to every replica`,
      fix: "enable TLS and requirepass (or an ACL user) on Redis and use rediss://:password@host:6380",
    },
  ];
}

function httpFindings(config: Config): Finding[] {
  const findings: Finding[] = [];
  if (!config.tls.https && !isLoopback(config.http.host)) {
    findings.push({
      severity: "high",
      setting: "HTTPS_CERT_FILE",
      problem: `GraphQL is served over plain HTTP on ${config.http.host}: API keys, tokens and data cross the network in the clear`,
      fix: "set HTTPS_CERT_FILE and HTTPS_KEY_FILE, or bind HOST=127.0.0.1 behind a reverse proxy that terminates TLS",
    });
  }
  if (config.env !== "production") {
    findings.push(
      {
        severity: "medium",
        setting: "NODE_ENV",
        problem: "GraphQL introspection is on: anyone who can reach /graphql can download the whole schema",
        fix: "set NODE_ENV=production",
      },
      {
        severity: "medium",
        setting: "NODE_ENV",
        problem: `NODE_ENV is ${config.env}: libraries run in development mode (Express error pages carry stack traces) and the demo admin key may be issued`,
        fix: "set NODE_ENV=production",
      },
    );
  }
  return findings;
}

function accessFindings(config: Config, facts: DoctorFacts): Finding[] {
  const findings: Finding[] = [];
  if (facts.unsecuredOpcuaEndpoints && facts.unsecuredOpcuaEndpoints.length > 0) {
    findings.push({
      severity: "medium",
      setting: "OPC UA endpoints",
      problem: `read without signing or encryption (security mode None): ${facts.unsecuredOpcuaEndpoints.join(", ")}`,
      fix: "set securityMode SignAndEncrypt (updateOpcuaEndpoint or the plant file) and trust the server with `plantgraph opcua trust <name>`",
    });
  }
  if (facts.demoKeyActive) {
    findings.push({
      severity: "high",
      setting: "API keys",
      problem: `the "${DEMO_KEY_NAME}" API key is still active: an admin key printed in a log`,
      fix: "find its id with `plantgraph keys list` and revoke it with `plantgraph keys revoke <id>`; give people and machines their own keys",
    });
  } else if (facts.demoKeyActive === undefined) {
    findings.push({
      severity: "low",
      setting: "API keys",
      problem: `could not check for an active "${DEMO_KEY_NAME}" key${facts.databaseUnchecked ? `: ${facts.databaseUnchecked}` : ""}`,
      fix: "run doctor with the hub's DATABASE_URL, or check `plantgraph keys list` yourself",
    });
  }
  if (!config.oidc) {
    findings.push({
      severity: "low",
      setting: "OIDC_ISSUER",
      problem: "no OIDC issuer: people sign in with API keys only, so leaving the company does not end their access",
      fix: "set OIDC_ISSUER and OIDC_AUDIENCE to your identity provider",
    });
  }
  if (!config.secretsKeys) {
    findings.push({
      severity: "medium",
      setting: "SECRETS_KEYS",
      problem: "no encryption key for secrets at rest: integrations' credentials cannot be stored",
      fix: "set SECRETS_KEYS=k1:<32 random bytes in base64> (e.g. `openssl rand -base64 32`) and keep it out of the database's backups",
    });
  }
  return findings;
}

function limitFindings(config: Config): Finding[] {
  const l = config.graphqlLimits;
  const values: Record<keyof typeof SANE_MAXIMA, number> = {
    GRAPHQL_MAX_DEPTH: l.maxDepth,
    GRAPHQL_MAX_COST: l.maxCost,
    GRAPHQL_MAX_ALIASES: l.maxAliases,
    GRAPHQL_MAX_DIRECTIVES: l.maxDirectives,
    GRAPHQL_MAX_TOKENS: l.maxTokens,
    RATE_LIMIT_PER_MINUTE: l.ratePerMinute,
  };
  return (Object.keys(SANE_MAXIMA) as (keyof typeof SANE_MAXIMA)[])
    .filter((setting) => values[setting] > SANE_MAXIMA[setting])
    .map((setting) => ({
      severity: "medium",
      setting,
      problem: `${values[setting]} is above ${SANE_MAXIMA[setting]}: one client can make the server do unbounded work`,
      fix: `lower ${setting} to ${SANE_MAXIMA[setting]} or less (unset uses the default)`,
    }));
}

/** Host and credential presence of a service URL, without requiring it to parse as a URL. */
function urlParts(url: string): { host: string; hasUser: boolean; hasPassword: boolean } {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? "";
  const at = authority.lastIndexOf("@");
  const userInfo = at < 0 ? "" : authority.slice(0, at);
  const hostPort = authority.slice(at + 1);
  const host = hostPort.startsWith("[") ? hostPort.slice(0, hostPort.indexOf("]") + 1) : hostPort.split(":")[0]!;
  const [user = "", password = ""] = splitOnce(userInfo, ":");
  return { host: host || queryOf(url).get("host") || "localhost", hasUser: user !== "", hasPassword: password !== "" };
}

function splitOnce(value: string, separator: string): [string, string] {
  const index = value.indexOf(separator);
  return index < 0 ? [value, ""] : [value.slice(0, index), value.slice(index + 1)];
}

/** Loopback names and addresses, and Unix sockets (a path as host). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare.startsWith("/") || bare.startsWith("%2f");
}

export function formatFindings(findings: readonly Finding[]): string {
  const lines = findings.flatMap((f) => [`${f.severity.toUpperCase().padEnd(6)}  ${f.setting}: ${f.problem}`, `        fix: ${f.fix}`]);
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const summary =
    findings.length === 0
      ? "no findings"
      : `${findings.length} finding${findings.length === 1 ? "" : "s"}: ${count("high")} high, ${count("medium")} medium, ${count("low")} low`;
  return [...lines, summary].join("\n");
}
