import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { REPO_ROOT } from "../support/hub-process.js";
import { createTestPki, type TestPki } from "../support/pki.js";

/**
 * `plantgraph doctor` as an operator runs it: the real CLI in a child process, a configuration from
 * the environment only, and a database whose API keys it inspects.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function doctor(env: Record<string, string | undefined>): Promise<Run> {
  // Only what the test gives: vitest's NODE_ENV=test and the developer's variables stay out.
  const clean = Object.fromEntries(Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...env }).filter(([, v]) => v !== undefined));
  const child = spawn(process.execPath, ["bin/plantgraph.js", "doctor"], { cwd: REPO_ROOT, env: clean, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("plantgraph doctor", () => {
  let testDb: TestDatabase;
  let pki: TestPki;
  let hardened: Record<string, string>;

  beforeAll(async () => {
    [testDb, pki] = await Promise.all([createTestDatabase("doctor"), createTestPki()]);
    hardened = {
      NODE_ENV: "production",
      DATABASE_URL: testDb.url,
      MQTT_URL: "mqtts://broker.internal:8883",
      MQTT_CA_FILE: pki.ca,
      MQTT_CERT_FILE: pki.client.cert,
      MQTT_KEY_FILE: pki.client.key,
      HOST: "0.0.0.0",
      HTTPS_CERT_FILE: pki.server.cert,
      HTTPS_KEY_FILE: pki.server.key,
      OIDC_ISSUER: "https://id.example.com",
      OIDC_AUDIENCE: "plantgraph",
      SECRETS_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
    };
    await testDb.database.query(
      "insert into api_key (name, prefix, secret_hash, role, created_by) values ('demo-admin', 'doctor01', 'unused', 'admin', 'system')",
    );
  });
  afterAll(async () => {
    await Promise.all([testDb?.drop(), pki?.remove()]);
  });

  it("exits 1 and says how to fix it while the demo key is active", async () => {
    const run = await doctor(hardened);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      'HIGH    API keys: the "demo-admin" API key is still active: an admin key printed in a log',
      "        fix: find its id with `plantgraph keys list` and revoke it with `plantgraph keys revoke <id>`; give people and machines their own keys",
      "1 finding: 1 high, 0 medium, 0 low",
    ]);
  });

  it("exits 0 once the key is revoked, and with only medium findings", async () => {
    await testDb.database.query("update api_key set revoked_at = now() where name = 'demo-admin'");
    const clean = await doctor(hardened);
    expect({ code: clean.code, stdout: clean.stdout }).toEqual({ code: 0, stdout: "no findings\n" });

    const development = await doctor({ ...hardened, NODE_ENV: "development" });
    expect(development.code).toBe(0);
    expect(development.stdout).toMatch(/^MEDIUM {2}NODE_ENV: GraphQL introspection is on/m);
    expect(development.stdout.trimEnd().split("\n").at(-1)).toBe("2 findings: 0 high, 2 medium, 0 low");
  });

  it("names a missing certificate file and the risky settings", async () => {
    const run = await doctor({ ...hardened, MQTT_CA_FILE: "/nonexistent/broker-ca.crt", REDIS_URL: "redis://redis.internal:6379" });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('HIGH    MQTT_CA_FILE: cannot read "/nonexistent/broker-ca.crt" (no such file)');
    expect(run.stdout).toContain("HIGH    REDIS_URL: Redis on redis.internal is used without TLS or a password");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("2 findings: 2 high, 0 medium, 0 low");
  });

  it("still reports the configuration when the database does not answer", async () => {
    const unreachable = new URL(testDb.url);
    unreachable.port = "1"; // nothing listens there: refused at once
    const run = await doctor({ ...hardened, DATABASE_URL: unreachable.toString() });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^LOW {5}API keys: could not check for an active "demo-admin" key: the database did not answer \(.*ECONNREFUSED.*\)$/m);
  });

  it("exits 2 on a configuration it cannot read", async () => {
    const run = await doctor({ ...hardened, MQTT_KEY_FILE: undefined });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("MQTT_KEY_FILE: expected both MQTT_CERT_FILE and MQTT_KEY_FILE");
  });
});
