import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, redactUrl } from "../../src/config.js";

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(env)}`);
}

describe("parseConfig defaults", () => {
  const config = parseConfig({});

  it("fills every setting from an empty environment", () => {
    expect(config).toEqual({
      env: "development",
      database: { url: undefined, dataDir: "./data" },
      redisUrl: undefined,
      mqtt: { url: undefined, clientId: "plantgraph-ingest", sessionExpirySeconds: 86_400, receiveMaximum: 20_000 },
      sparkplug: { hostId: "plantgraph" },
      actuation: { readBackTimeoutMs: 10_000 },
      http: { host: "127.0.0.1", port: 4000 },
      plantFile: undefined,
      simulator: true,
      logLevel: "info",
      telemetry: { batchMax: 10_000, flushMs: 20, writeConnections: 3 },
      machineOfflineAfterSeconds: 60,
      jobs: { prefix: "plantgraph", concurrency: 200, pollIntervalSeconds: 60, reconcileEverySeconds: 30, reconcileAfterSeconds: 30, lockSeconds: 30, rateLimits: {} },
      lifecycle: { retention: { rawDays: 30, minuteDays: 180, hourDays: 1_825 }, rollupEverySeconds: 60, retentionEverySeconds: 3_600 },
      oidc: undefined,
      secretsKeys: undefined,
      graphqlLimits: { maxDepth: 12, maxCost: 5_000, maxAliases: 15, maxDirectives: 10, maxTokens: 2_000, ratePerMinute: 1_200 },
      opcua: { pkiDir: ".pki/opcua" },
      audit: {
        keyFile: "data/keys/audit-ed25519.pem",
        checkpointDir: "data/audit/checkpoints",
        checkpointUrl: undefined,
        checkpointEverySeconds: 300,
        exportDir: "data/audit/exports",
        signatureMaxAuthAgeSeconds: 300,
      },
      tls: { https: undefined, mqtt: { caFile: undefined, certFile: undefined, keyFile: undefined }, databaseCaFile: undefined },
    });
  });

  it.each([
    ["OIDC_ISSUER without OIDC_AUDIENCE", { OIDC_ISSUER: "https://id.example.com" }, "OIDC_AUDIENCE"],
    ["a certificate without its key", { HTTPS_CERT_FILE: "cert.pem" }, "HTTPS_KEY_FILE"],
    ["an MQTT client key without its certificate", { MQTT_KEY_FILE: "client.key" }, "MQTT_CERT_FILE"],
    ["a malformed keyring", { SECRETS_KEYS: "no-colon" }, "SECRETS_KEYS"],
    ["a job prefix with a colon", { JOBS_PREFIX: "bull:x" }, "JOBS_PREFIX"],
    ["a rate limit without its period", { CONNECTOR_RATE_LIMITS: "jira=50" }, "CONNECTOR_RATE_LIMITS"],
  ])("rejects %s, naming the missing variable", (_name, env, variable) => {
    expect(() => parseConfig(env)).toThrow(new RegExp(`${variable}: expected`));
  });

  it("never repeats key material back in an error", () => {
    expect(() => parseConfig({ SECRETS_KEYS: "k1:c2VjcmV0IGtleSBtYXRlcmlhbA==,broken" })).toThrow(/^(?![\s\S]*c2VjcmV0)[\s\S]*SECRETS_KEYS: expected/);
  });

  it.each([
    ["no MQTT_URL → simulator on", {}, true],
    ["blank MQTT_URL counts as unset → simulator on", { MQTT_URL: "  " }, true],
    ["MQTT_URL set → simulator off", { MQTT_URL: "mqtt://broker:1883" }, false],
    ["SIMULATOR=false without a broker", { SIMULATOR: "false" }, false],
    ["SIMULATOR=0 without a broker", { SIMULATOR: "0" }, false],
    ["SIMULATOR=no without a broker", { SIMULATOR: "no" }, false],
    ["SIMULATOR=true with a broker", { MQTT_URL: "mqtt://broker", SIMULATOR: "true" }, true],
    ["SIMULATOR=yes with a broker", { MQTT_URL: "mqtt://broker", SIMULATOR: "yes" }, true],
    ["SIMULATOR=1 with a broker", { MQTT_URL: "mqtt://broker", SIMULATOR: "1" }, true],
  ] as const)("%s", (_case, env, simulator) => {
    expect(parseConfig(env).simulator).toBe(simulator);
  });

  it("reads given values", () => {
    const c = parseConfig({
      NODE_ENV: "production",
      DATABASE_URL: "postgresql://u:p@db:5432/plant",
      REDIS_URL: "rediss://cache:6380",
      MQTT_URL: "  mqtts://broker:8883  ",
      MQTT_CLIENT_ID: "hub-1.a_b",
      HOST: "0.0.0.0",
      PORT: "0",
      LOG_LEVEL: "debug",
      TELEMETRY_BATCH_MAX: "60000",
      TELEMETRY_FLUSH_MS: "5",
      MACHINE_OFFLINE_AFTER_SECONDS: "300",
      PLANT_FILE: "plant.yaml",
    });
    expect(c.env).toBe("production");
    expect(c.database.url).toBe("postgresql://u:p@db:5432/plant");
    expect(c.redisUrl).toBe("rediss://cache:6380");
    expect(c.mqtt.url).toBe("mqtts://broker:8883");
    expect(c.mqtt.clientId).toBe("hub-1.a_b");
    expect(c.http).toEqual({ host: "0.0.0.0", port: 0 });
    expect(c.logLevel).toBe("debug");
    expect(c.telemetry).toEqual({ batchMax: 60_000, flushMs: 5, writeConnections: 3 });
    expect(c.machineOfflineAfterSeconds).toBe(300);
    expect(c.plantFile).toBe("plant.yaml");
  });

  it("returns a frozen config, nested objects included", () => {
    const c = parseConfig({ MQTT_URL: "mqtt://broker" });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.database)).toBe(true);
    expect(Object.isFrozen(c.mqtt)).toBe(true);
    expect(Object.isFrozen(c.http)).toBe(true);
    expect(Object.isFrozen(c.telemetry)).toBe(true);
    expect(() => {
      (c as { simulator: boolean }).simulator = true;
    }).toThrow(TypeError);
    expect(() => {
      (c.http as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(c.simulator).toBe(false);
    expect(c.http.port).toBe(4000);
  });
});

describe("parseConfig errors", () => {
  it.each([
    ["PORT", "abc", /PORT: expected a TCP port number/],
    ["PORT", "70000", /PORT: expected a TCP port number from 0 to 65535/],
    ["PORT", "-1", /PORT: expected a TCP port number from 0 to 65535/],
    ["PORT", "80.5", /PORT: expected a TCP port number/],
    ["DATABASE_URL", "mysql://x", /DATABASE_URL: expected a URL starting with postgres:\/\/ or postgresql:\/\//],
    ["REDIS_URL", "http://cache", /REDIS_URL: expected a URL starting with redis:\/\/ or rediss:\/\//],
    ["MQTT_URL", "http://x", /MQTT_URL: expected a URL starting with mqtt:\/\//],
    ["LOG_LEVEL", "loud", /LOG_LEVEL: .*expected one of .*"info"/],
    ["NODE_ENV", "staging", /NODE_ENV: .*expected one of .*"production"/],
    ["TELEMETRY_BATCH_MAX", "0", /TELEMETRY_BATCH_MAX: expected a number of at least 1/],
    ["TELEMETRY_BATCH_MAX", "60001", /TELEMETRY_BATCH_MAX: expected a number of at most 60000/],
    ["TELEMETRY_FLUSH_MS", "fast", /TELEMETRY_FLUSH_MS: expected a whole number/],
    ["MACHINE_OFFLINE_AFTER_SECONDS", "1.5", /MACHINE_OFFLINE_AFTER_SECONDS: expected a whole number/],
    ["MQTT_CLIENT_ID", "has space", /MQTT_CLIENT_ID: expected 1-64 letters/],
    ["SIMULATOR", "maybe", /SIMULATOR: expected true or false/],
  ])("%s=%s throws a ConfigError naming the variable and what it expects", (variable, value, pattern) => {
    const error = configError({ [variable]: value });
    expect(error.name).toBe("ConfigError");
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain(`(got ${JSON.stringify(value)})`);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${variable}: `));
  });

  it("lists every bad variable at once", () => {
    const error = configError({ PORT: "abc", LOG_LEVEL: "loud", TELEMETRY_BATCH_MAX: "0" });
    expect(error.problems).toHaveLength(3);
    expect(error.message).toMatch(/^Invalid configuration:\n/);
    for (const variable of ["PORT", "LOG_LEVEL", "TELEMETRY_BATCH_MAX"]) expect(error.message).toContain(`  - ${variable}: `);
  });

  it("never shows a good DATABASE_URL's password when another variable is bad", () => {
    const error = configError({ DATABASE_URL: "postgres://u:secret@h/db", PORT: "abc" });
    expect(error.message).toContain("PORT");
    expect(error.message).not.toContain("secret");
    expect(error.problems.join("\n")).not.toContain("secret");
  });

  it.each([
    ["REDIS_URL", "http://u:secret@cache:6379"],
    ["DATABASE_URL", "mysql://admin:secret@db/plant"],
    ["MQTT_URL", "https://ingest:secret@broker"],
  ])("redacts the password of a bad %s", (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.message).toContain(variable);
    expect(error.message).not.toContain("secret");
    expect(error.problems.join("\n")).not.toContain("secret");
    expect(error.message).toContain("***");
  });
});

describe("redactUrl", () => {
  it.each([
    ["redis://u:secret@h:6379/0", "redis://u:***@h:6379/0"],
    ["postgres://u:secret@h/db", "postgres://u:***@h/db"],
    ["postgres://u:se/cr:et@h/db", "postgres://u:***@h/db"],
    ["postgres://u@h/db", "postgres://u@h/db"],
    ["postgres://h:5432/db", "postgres://h:5432/db"],
    ["not a url", "not a url"],
  ])("%s → %s", (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});
