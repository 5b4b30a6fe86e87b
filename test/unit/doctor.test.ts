import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { formatFindings, inspectConfiguration, isLoopback, type DoctorFacts, type Finding, type Severity } from "../../src/security/doctor.js";

/**
 * Every rule of `plantgraph doctor`, each shown present when the setting is risky and absent once
 * it is fixed. The hardened environment below is the "fixed" state of every rule at once.
 */

const hardened: Record<string, string> = {
  NODE_ENV: "production",
  HOST: "0.0.0.0",
  HTTPS_CERT_FILE: "/etc/plantgraph/hub.crt",
  HTTPS_KEY_FILE: "/etc/plantgraph/hub.key",
  DATABASE_URL: "postgres://plantgraph:pw@db.internal:5432/plantgraph?sslmode=verify-full",
  REDIS_URL: "rediss://:pw@redis.internal:6380",
  MQTT_URL: "mqtts://broker.internal:8883",
  MQTT_CA_FILE: "/etc/plantgraph/broker-ca.crt",
  MQTT_CERT_FILE: "/etc/plantgraph/hub-client.crt",
  MQTT_KEY_FILE: "/etc/plantgraph/hub-client.key",
  OIDC_ISSUER: "https://id.example.com",
  OIDC_AUDIENCE: "plantgraph",
  SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
};
const safeFacts: DoctorFacts = { demoKeyActive: false, fileProblems: [] };

function inspect(overrides: Record<string, string | undefined>, facts: DoctorFacts = safeFacts): Finding[] {
  return inspectConfiguration(parseConfig({ ...hardened, ...overrides }), facts);
}

const noMqttFiles = { MQTT_CA_FILE: undefined, MQTT_CERT_FILE: undefined, MQTT_KEY_FILE: undefined };

type Expected = [Severity, string, RegExp];
interface Case {
  name: string;
  env?: Record<string, string | undefined>;
  facts?: DoctorFacts;
  expected: Expected[];
}

const risky: Case[] = [
  { name: "embedded MQTT broker", env: { MQTT_URL: undefined, ...noMqttFiles }, expected: [["high", "MQTT_URL", /embedded demo broker/]] },
  { name: "mqtt:// to another host", env: { MQTT_URL: "mqtt://hub:pw@broker.internal:1883", ...noMqttFiles }, expected: [["high", "MQTT_URL", /mqtt:\/\/ carries readings unencrypted.*broker\.internal/]] },
  { name: "ws:// to another host", env: { MQTT_URL: "ws://hub:pw@broker.internal/mqtt", ...noMqttFiles }, expected: [["high", "MQTT_URL", /ws:\/\/ carries readings unencrypted/]] },
  { name: "mqtt:// on this machine", env: { MQTT_URL: "mqtt://hub:pw@127.0.0.1:1883", ...noMqttFiles }, expected: [["medium", "MQTT_URL", /unencrypted.*on this machine/]] },
  { name: "anonymous MQTT over TLS", env: { ...noMqttFiles }, expected: [["high", "MQTT_URL", /anonymously/]] },
  {
    name: "anonymous MQTT without TLS",
    env: { MQTT_URL: "mqtt://broker.internal:1883", ...noMqttFiles },
    expected: [
      ["high", "MQTT_URL", /unencrypted/],
      ["high", "MQTT_URL", /anonymously/],
    ],
  },
  { name: "MQTT password without client certificate", env: { MQTT_URL: "mqtts://hub:pw@broker.internal:8883", ...noMqttFiles }, expected: [["low", "MQTT_CERT_FILE", /password, no client certificate/]] },
  { name: "database without sslmode", env: { DATABASE_URL: "postgres://plantgraph:pw@db.internal:5432/plantgraph" }, expected: [["high", "DATABASE_URL", /db\.internal does not use TLS/]] },
  { name: "database with sslmode=disable", env: { DATABASE_URL: "postgres://plantgraph:pw@db.internal/plantgraph?sslmode=disable" }, expected: [["high", "DATABASE_URL", /sslmode=disable/]] },
  { name: "database with sslmode=prefer", env: { DATABASE_URL: "postgres://plantgraph:pw@10.0.0.5/plantgraph?sslmode=prefer" }, expected: [["high", "DATABASE_URL", /10\.0\.0\.5 has sslmode=prefer/]] },
  { name: "plain HTTP on the network", env: { HTTPS_CERT_FILE: undefined, HTTPS_KEY_FILE: undefined }, expected: [["high", "HTTPS_CERT_FILE", /plain HTTP on 0\.0\.0\.0/]] },
  {
    name: "NODE_ENV development",
    env: { NODE_ENV: "development" },
    expected: [
      ["medium", "NODE_ENV", /introspection is on/],
      ["medium", "NODE_ENV", /NODE_ENV is development/],
    ],
  },
  {
    name: "NODE_ENV test",
    env: { NODE_ENV: "test" },
    expected: [
      ["medium", "NODE_ENV", /introspection is on/],
      ["medium", "NODE_ENV", /NODE_ENV is test/],
    ],
  },
  { name: "no OIDC issuer", env: { OIDC_ISSUER: undefined, OIDC_AUDIENCE: undefined }, expected: [["low", "OIDC_ISSUER", /API keys only/]] },
  { name: "no SECRETS_KEYS", env: { SECRETS_KEYS: undefined }, expected: [["medium", "SECRETS_KEYS", /cannot be stored/]] },
  { name: "Redis without TLS or password", env: { REDIS_URL: "redis://redis.internal:6379" }, expected: [["high", "REDIS_URL", /redis\.internal is used without TLS or a password/]] },
  { name: "Redis with a password, no TLS", env: { REDIS_URL: "redis://:pw@redis.internal:6379" }, expected: [["medium", "REDIS_URL", /without TLS:/]] },
  { name: "Redis with TLS, no password", env: { REDIS_URL: "rediss://redis.internal:6380" }, expected: [["medium", "REDIS_URL", /without a password/]] },
  { name: "demo key active", facts: { ...safeFacts, demoKeyActive: true }, expected: [["high", "API keys", /"demo-admin" API key is still active/]] },
  { name: "OPC UA endpoints without security", facts: { ...safeFacts, unsecuredOpcuaEndpoints: ["press-plc"] }, expected: [["medium", "OPC UA endpoints", /security mode None\): press-plc/]] },
  {
    name: "demo key not checkable",
    facts: { fileProblems: [], databaseUnchecked: "the database did not answer (timeout)" },
    expected: [["low", "API keys", /could not check .*did not answer \(timeout\)/]],
  },
  {
    name: "unreadable transport file",
    facts: { ...safeFacts, fileProblems: ['MQTT_CA_FILE: cannot read "/etc/plantgraph/broker-ca.crt" (no such file)'] },
    expected: [["high", "MQTT_CA_FILE", /^cannot read "\/etc\/plantgraph\/broker-ca\.crt" \(no such file\)$/]],
  },
  { name: "rate limit very high", env: { RATE_LIMIT_PER_MINUTE: "10000" }, expected: [["medium", "RATE_LIMIT_PER_MINUTE", /10000 is above 6000/]] },
  { name: "query depth", env: { GRAPHQL_MAX_DEPTH: "21" }, expected: [["medium", "GRAPHQL_MAX_DEPTH", /21 is above 20/]] },
  { name: "query cost", env: { GRAPHQL_MAX_COST: "50001" }, expected: [["medium", "GRAPHQL_MAX_COST", /above 50000/]] },
  { name: "aliases", env: { GRAPHQL_MAX_ALIASES: "100" }, expected: [["medium", "GRAPHQL_MAX_ALIASES", /above 50/]] },
  { name: "directives", env: { GRAPHQL_MAX_DIRECTIVES: "51" }, expected: [["medium", "GRAPHQL_MAX_DIRECTIVES", /above 50/]] },
  { name: "tokens", env: { GRAPHQL_MAX_TOKENS: "20000" }, expected: [["medium", "GRAPHQL_MAX_TOKENS", /above 10000/]] },
];

/** Other ways of fixing a rule than the hardened settings. */
const fixed: Case[] = [
  { name: "MQTT over mqtts:// with a client certificate and no password", env: { MQTT_URL: "mqtts://broker.internal:8883" }, expected: [] },
  { name: "MQTT over wss:// with a client certificate", env: { MQTT_URL: "wss://broker.internal/mqtt" }, expected: [] },
  { name: "database on this machine", env: { DATABASE_URL: "postgres://plantgraph:pw@127.0.0.1:5432/plantgraph" }, expected: [] },
  { name: "database over a Unix socket", env: { DATABASE_URL: "postgres://plantgraph@%2Fvar%2Frun%2Fpostgresql/plantgraph" }, expected: [] },
  { name: "database with sslmode=require", env: { DATABASE_URL: "postgres://plantgraph:pw@db.internal/plantgraph?sslmode=require" }, expected: [] },
  { name: "database with DATABASE_CA_FILE", env: { DATABASE_URL: "postgres://plantgraph:pw@db.internal/plantgraph", DATABASE_CA_FILE: "/etc/plantgraph/db-ca.crt" }, expected: [] },
  { name: "embedded database", env: { DATABASE_URL: undefined }, expected: [] },
  { name: "plain HTTP on loopback", env: { HOST: "127.0.0.1", HTTPS_CERT_FILE: undefined, HTTPS_KEY_FILE: undefined }, expected: [] },
  { name: "plain HTTP on IPv6 loopback", env: { HOST: "::1", HTTPS_CERT_FILE: undefined, HTTPS_KEY_FILE: undefined }, expected: [] },
  { name: "Redis on this machine", env: { REDIS_URL: "redis://127.0.0.1:6379" }, expected: [] },
  { name: "no Redis", env: { REDIS_URL: undefined }, expected: [] },
  {
    name: "limits at their maxima",
    env: { GRAPHQL_MAX_DEPTH: "20", GRAPHQL_MAX_COST: "50000", GRAPHQL_MAX_ALIASES: "50", GRAPHQL_MAX_DIRECTIVES: "50", GRAPHQL_MAX_TOKENS: "10000", RATE_LIMIT_PER_MINUTE: "6000" },
    expected: [],
  },
];

const shape = (findings: Finding[]) => findings.map((f) => [f.severity, f.setting, f.problem]);

describe("inspectConfiguration", () => {
  it("finds nothing in a hardened configuration", () => {
    expect(inspect({})).toEqual([]);
  });

  it.each(risky)("reports $name", ({ env = {}, facts, expected }) => {
    const findings = inspect(env, facts);
    expect(shape(findings)).toEqual(expected.map(([severity, setting, problem]) => [severity, setting, expect.stringMatching(problem)]));
    for (const finding of findings) expect(finding.fix.length).toBeGreaterThan(10);
  });

  it.each(fixed)("reports nothing for $name", ({ env = {}, facts, expected }) => {
    expect(shape(inspect(env, facts))).toEqual(expected);
  });

  it("lists high findings first", () => {
    const findings = inspect({ OIDC_ISSUER: undefined, OIDC_AUDIENCE: undefined, SECRETS_KEYS: undefined, REDIS_URL: "redis://redis.internal" });
    expect(findings.map((f) => f.severity)).toEqual(["high", "medium", "low"]);
  });

  it("never repeats a password from a URL", () => {
    const text = JSON.stringify(
      inspect({ DATABASE_URL: "postgres://u:s3cret-db@db.internal/p", REDIS_URL: "redis://:s3cret-redis@redis.internal", MQTT_URL: "mqtt://u:s3cret-mqtt@broker.internal" }),
    );
    expect(text).not.toMatch(/s3cret/);
  });
});

describe("formatFindings", () => {
  it("prints severity, setting, problem and fix, then a summary", () => {
    const text = formatFindings(inspect({ SECRETS_KEYS: undefined }, { ...safeFacts, demoKeyActive: true }));
    expect(text.split("\n")).toEqual([
      expect.stringMatching(/^HIGH    API keys: the "demo-admin" API key is still active/),
      expect.stringMatching(/^ {8}fix: .*plantgraph keys revoke/),
      expect.stringMatching(/^MEDIUM  SECRETS_KEYS: /),
      expect.stringMatching(/^ {8}fix: set SECRETS_KEYS=/),
      "2 findings: 1 high, 1 medium, 0 low",
    ]);
  });

  it("says so when there is nothing to report", () => {
    expect(formatFindings([])).toBe("no findings");
  });
});

describe("isLoopback", () => {
  it.each(["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "/var/run/postgresql", "%2Fvar%2Frun"])("%s is local", (host) => {
    expect(isLoopback(host)).toBe(true);
  });
  it.each(["0.0.0.0", "::", "10.0.0.5", "db.internal", "127.0.0.1.nip.io", "localhost.example.com"])("%s is not", (host) => {
    expect(isLoopback(host)).toBe(false);
  });
});
