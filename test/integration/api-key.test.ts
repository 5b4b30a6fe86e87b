import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, hasActiveAdminKey, listApiKeys, revokeApiKey, verifyApiKey } from "../../src/auth/api-key.service.js";
import { AuthenticationError } from "../../src/auth/authentication.js";
import { createAuthenticator } from "../../src/auth/authenticator.js";
import { ensureBootstrapAccess } from "../../src/auth/bootstrap.js";
import { parseConfig } from "../../src/config.js";
import type { Database } from "../../src/db/database.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createLogger } from "../../src/log/logger.js";
import { capturingLogger } from "../support/logger.js";
import { createPgliteDatabase, createTestDatabase, type TestDatabase } from "../support/database.js";
import { eventually, graphql, post } from "../support/graphql.js";
import { REPO_ROOT } from "../support/hub-process.js";

/** API keys against PostgreSQL: the service, the authenticator's cache, first access, GraphQL over HTTP and the CLI. */

const KEY = /^pgk_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/;
const silent = createLogger("silent");
const config = parseConfig({ NODE_ENV: "test" });

async function refusalOf(work: Promise<unknown>): Promise<AuthenticationError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  return error as AuthenticationError;
}

const securityEvents = async (database: Database, where: string, params: unknown[]) =>
  (await database.query<{ action: string; actor: string; outcome: string; resource: string | null; detail: Record<string, unknown> }>(
    `select action, actor, outcome, resource, detail from security_event where ${where} order by id`,
    params,
  )).rows;

describe("API keys", () => {
  let testDb: TestDatabase;
  let db: Database["db"];

  beforeAll(async () => {
    testDb = await createTestDatabase("api_key");
    db = testDb.database.db;
  });

  afterAll(async () => {
    await testDb?.drop();
  });

  describe("lifecycle", () => {
    let key: string;
    let id: number;

    it("creates a key shown once, storing only the SHA-256 of its secret, and records apikey.created", async () => {
      expect(await hasActiveAdminKey(db)).toBe(false);
      const created = await createApiKey(db, { name: "line-1 gateway", role: "operator", sites: ["acme/plant-1"], createdBy: "user:ada" });
      ({ key } = created);
      id = created.row.id;
      expect(key).toMatch(KEY);
      expect(created.row).not.toHaveProperty("secretHash");
      expect(created.row).toMatchObject({ name: "line-1 gateway", role: "operator", sites: ["acme/plant-1"], createdBy: "user:ada", revokedAt: null, lastUsedAt: null });
      expect(key.startsWith(`pgk_${created.row.prefix}_`)).toBe(true);

      const [stored] = (await testDb.database.query<{ secret_hash: string }>("select secret_hash from api_key where id = $1", [id])).rows;
      const secret = key.slice(`pgk_${created.row.prefix}_`.length);
      expect(stored!.secret_hash).toBe(createHash("sha256").update(secret).digest("hex"));
      expect(JSON.stringify(await securityEvents(testDb.database, "true", []))).not.toContain(secret);
      expect(await securityEvents(testDb.database, "action = 'apikey.created'", [])).toEqual([
        expect.objectContaining({ actor: "user:ada", outcome: "success", resource: `key:${id}` }),
      ]);
      expect(await hasActiveAdminKey(db)).toBe(false);
    });

    it("verifies the key into an identity with its role and sites, and notes the use at most once a minute", async () => {
      expect(await verifyApiKey(db, key)).toEqual({ kind: "api_key", id: `key:${id}`, name: "line-1 gateway", role: "operator", scope: { all: false, sites: ["acme/plant-1"] } });
      const lastUsed = async () => (await listApiKeys(db)).find((k) => k.id === id)!.lastUsedAt;
      const first = await lastUsed();
      expect(first).toBeInstanceOf(Date);
      expect(Date.now() - first!.getTime()).toBeLessThan(5_000);
      await verifyApiKey(db, key);
      expect(await lastUsed()).toEqual(first);
      await testDb.database.query("update api_key set last_used_at = now() - interval '2 minutes' where id = $1", [id]);
      await verifyApiKey(db, key);
      expect(Date.now() - (await lastUsed())!.getTime()).toBeLessThan(5_000);
    });

    it("lists keys without secret or hash", async () => {
      const [stored] = (await testDb.database.query<{ secret_hash: string }>("select secret_hash from api_key where id = $1", [id])).rows;
      const listed = await listApiKeys(db);
      expect(listed.map((k) => k.id)).toContain(id);
      for (const row of listed) expect(Object.keys(row).sort()).toEqual(["createdAt", "createdBy", "expiresAt", "id", "lastUsedAt", "name", "prefix", "revokedAt", "role", "sites"]);
      const text = JSON.stringify(listed);
      expect(text).not.toContain(stored!.secret_hash);
      expect(text).not.toContain(key);
    });

    it("refuses a wrong secret, a malformed and an unknown key with one generic message", async () => {
      const prefix = key.slice(0, 13);
      const cases: [string, string][] = [
        [`${prefix}${"A".repeat(43)}`, "secret_mismatch"],
        ["pgk_short", "malformed"],
        [`pgk_zzzzzzzz_${"A".repeat(43)}`, "unknown"],
      ];
      for (const [presented, reason] of cases) {
        const refused = await refusalOf(verifyApiKey(db, presented));
        expect(refused.message).toBe("invalid API key");
        expect(refused.reason).toBe(reason);
      }
    });

    it("revokes the key once (apikey.revoked), after which it is refused", async () => {
      const revoked = await revokeApiKey(db, id, "user:ada");
      expect(revoked!.revokedAt).toBeInstanceOf(Date);
      const again = await revokeApiKey(db, id, "user:bob");
      expect(again!.revokedAt).toEqual(revoked!.revokedAt);
      expect(await revokeApiKey(db, 999_999, "user:ada")).toBeUndefined();
      expect(await securityEvents(testDb.database, "action = 'apikey.revoked'", [])).toEqual([
        expect.objectContaining({ actor: "user:ada", resource: `key:${id}` }),
      ]);
      const refused = await refusalOf(verifyApiKey(db, key));
      expect([refused.message, refused.reason]).toEqual(["invalid API key", "revoked"]);
    });

    it("refuses an expired key, and counts only unexpired, unrevoked admin keys as active", async () => {
      const { key: adminKey, row } = await createApiKey(db, { name: "admin", role: "admin", sites: null, createdBy: "cli", expiresAt: new Date(Date.now() + 3_600_000) });
      expect(await hasActiveAdminKey(db)).toBe(true);
      expect((await verifyApiKey(db, adminKey)).scope).toEqual({ all: true });
      await testDb.database.query("update api_key set expires_at = now() - interval '1 second' where id = $1", [row.id]);
      expect(await hasActiveAdminKey(db)).toBe(false);
      const refused = await refusalOf(verifyApiKey(db, adminKey));
      expect([refused.message, refused.reason]).toEqual(["invalid API key", "expired"]);
    });

    it("rejects invalid input when creating", async () => {
      await expect(createApiKey(db, { name: " ", role: "viewer", sites: null, createdBy: "cli" })).rejects.toThrow(/expected a name/);
      await expect(createApiKey(db, { name: "x", role: "viewer", sites: ["acme"], createdBy: "cli" })).rejects.toThrow(/enterprise\/site/);
      await expect(createApiKey(db, { name: "x", role: "viewer", sites: null, createdBy: "cli", expiresAt: new Date(Date.now() - 1_000) })).rejects.toThrow(/future/);
    });
  });

  describe("the authenticator", () => {
    it("accepts a key, keeps trusting it for the cache TTL after revocation, then refuses it", async () => {
      const { key, row } = await createApiKey(db, { name: "cached", role: "viewer", sites: null, createdBy: "cli" });
      const authenticator = createAuthenticator({ config, database: testDb.database, log: silent, apiKeyCacheTtlMs: 400 });
      expect((await authenticator.authenticate(`Bearer ${key}`, { requestId: randomUUID() })).id).toBe(`key:${row.id}`);
      await revokeApiKey(db, row.id, "cli");
      // Within the TTL the cached identity still answers; no database read happens.
      expect((await authenticator.authenticate(`Bearer ${key}`, { requestId: randomUUID() })).id).toBe(`key:${row.id}`);
      await new Promise((r) => setTimeout(r, 450));
      await refusalOf(authenticator.authenticate(`Bearer ${key}`, { requestId: randomUUID() }));
    });

    it("with the cache off, refuses a revoked key at once and records auth.failed with the key's prefix, never the key", async () => {
      const { key, row } = await createApiKey(db, { name: "uncached", role: "viewer", sites: null, createdBy: "cli" });
      const authenticator = createAuthenticator({ config, database: testDb.database, log: silent, apiKeyCacheTtlMs: 0 });
      await authenticator.authenticate(`bearer ${key}`, { requestId: randomUUID() });
      await revokeApiKey(db, row.id, "cli");
      const requestId = randomUUID();
      const refused = await refusalOf(authenticator.authenticate(`Bearer ${key}`, { requestId }));
      expect(refused.message).toBe("invalid API key");
      const events = await securityEvents(testDb.database, "request_id = $1", [requestId]);
      expect(events).toEqual([
        { action: "auth.failed", actor: "anonymous", outcome: "failure", resource: null, detail: { credential: "api_key", reason: "revoked", keyPrefix: row.prefix } },
      ]);
      expect(JSON.stringify(events)).not.toContain(key.slice(14));
    });

    it.each([
      ["no header", undefined, "authentication required: send Authorization: Bearer <API key or token>", { credential: "none", reason: "missing" }],
      ["another scheme", "Basic YWRhOnNlY3JldA==", "unsupported credential: send Authorization: Bearer <API key or token>", { credential: "unknown", reason: "unsupported" }],
      ["an opaque token", "Bearer not-a-key-or-jwt", "unsupported credential: send Authorization: Bearer <API key or token>", { credential: "unknown", reason: "unsupported" }],
    ])("refuses %s and records why", async (_name, header, message, detail) => {
      const authenticator = createAuthenticator({ config, database: testDb.database, log: silent });
      const requestId = randomUUID();
      const refused = await refusalOf(authenticator.authenticate(header, { requestId }));
      expect(refused.message).toBe(message);
      expect((await securityEvents(testDb.database, "request_id = $1", [requestId])).map((e) => e.detail)).toEqual([detail]);
    });
  });

  describe("first access", () => {
    it("the embedded demo issues one admin key, shown once in a warning, and never again", async () => {
      const database = await createPgliteDatabase();
      try {
        const { log, lines } = capturingLogger();
        await ensureBootstrapAccess({ config: parseConfig({ NODE_ENV: "development" }), database, log });
        const shown = lines.filter((l) => String(l.msg).includes("pgk_"));
        expect(shown).toHaveLength(1);
        expect(shown[0]!.level).toBe(40);
        const key = /^demo admin API key \(shown once\): (pgk_\S+)$/.exec(String(shown[0]!.msg))![1]!;
        expect(await verifyApiKey(database.db, key)).toMatchObject({ name: "demo-admin", role: "admin", scope: { all: true } });
        expect((await securityEvents(database, "action = 'demo_key.issued'", [])).map((e) => e.actor)).toEqual(["system"]);

        await ensureBootstrapAccess({ config: parseConfig({ NODE_ENV: "development" }), database, log });
        expect(lines.filter((l) => String(l.msg).includes("pgk_"))).toHaveLength(1);
        expect(await listApiKeys(database.db)).toHaveLength(1);
      } finally {
        await database.close();
      }
    });

    it("production refuses to start with no admin key and no OIDC issuer, and says how to fix it", async () => {
      const database = await createPgliteDatabase();
      try {
        const production = parseConfig({ NODE_ENV: "production" });
        await expect(ensureBootstrapAccess({ config: production, database, log: silent })).rejects.toThrow(/plantgraph keys create --name admin --role admin.*OIDC_ISSUER and OIDC_AUDIENCE/);
        expect(await listApiKeys(database.db)).toEqual([]);

        const withOidc = parseConfig({ NODE_ENV: "production", OIDC_ISSUER: "https://id.example.com", OIDC_AUDIENCE: "plantgraph" });
        await expect(ensureBootstrapAccess({ config: withOidc, database, log: silent })).resolves.toBeUndefined();

        await createApiKey(database.db, { name: "admin", role: "admin", sites: null, createdBy: "cli" });
        await expect(ensureBootstrapAccess({ config: production, database, log: silent })).resolves.toBeUndefined();
      } finally {
        await database.close();
      }
    });
  });

  describe("over GraphQL on the running hub", () => {
    let hub: Hub;
    let endpoint: string;
    let adminKey: string;

    beforeAll(async () => {
      ({ key: adminKey } = await createApiKey(db, { name: "hub admin", role: "admin", sites: null, createdBy: "test" }));
      const hubConfig = parseConfig({ NODE_ENV: "test", DATABASE_URL: testDb.url, PORT: "0", SIMULATOR: "false", LOG_LEVEL: "silent" });
      hub = await startHub({ config: hubConfig, roles: ["api"], log: silent });
      endpoint = hub.graphqlUrl!;
    });

    afterAll(async () => {
      await hub?.stop();
    });

    const create = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key errors { field message } apiKey { id name prefix role sites expiresAt revokedAt createdBy } } }`;

    it("lets an admin create a key that works at once, shows its secret only then, and lets the admin revoke it", async () => {
      const created = await graphql(endpoint, create, { input: { name: "dashboard", role: "VIEWER", sites: ["acme/plant-1"] } }, adminKey);
      expect(created.errors).toBeUndefined();
      const { key, apiKey, errors } = created.data!.createApiKey;
      expect(errors).toEqual([]);
      expect(key).toMatch(KEY);
      expect(apiKey).toMatchObject({ name: "dashboard", role: "VIEWER", sites: ["acme/plant-1"], expiresAt: null, revokedAt: null, createdBy: expect.stringMatching(/^key:\d+$/) });

      const listed = await graphql(endpoint, `{ apiKeys { id name prefix lastUsedAt } }`, {}, adminKey);
      expect(listed.data!.apiKeys.map((k: { name: string }) => k.name)).toContain("dashboard");
      expect(JSON.stringify(listed)).not.toContain(key.slice(14));

      const asViewer = await graphql(endpoint, `{ enterprises { name } }`, {}, key);
      expect(asViewer.errors).toBeUndefined();
      expect(asViewer.data!.enterprises).toEqual([]);
      expect((await listApiKeys(db)).find((k) => String(k.id) === apiKey.id)!.lastUsedAt).toBeInstanceOf(Date);

      const forbidden = await graphql(endpoint, create, { input: { name: "escalate", role: "ADMIN" } }, key);
      expect(forbidden.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect(forbidden.data?.createApiKey ?? null).toBeNull();
      expect((await listApiKeys(db)).map((k) => k.name)).not.toContain("escalate");

      const revoked = await graphql(endpoint, `mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id revokedAt } errors { message } } }`, { id: apiKey.id }, adminKey);
      expect(revoked.data!.revokeApiKey.errors).toEqual([]);
      expect(revoked.data!.revokeApiKey.apiKey.revokedAt).not.toBeNull();

      // The hub trusts a verified key for up to 10 s; after that the revoked key is refused.
      const started = Date.now();
      const refusal = await eventually(async () => {
        const response = await post(endpoint, { query: "{ enterprises { name } }" }, { authorization: `Bearer ${key}` });
        return response.status === 401 ? ((await response.json()) as { errors: { extensions: { code: string } }[] }) : undefined;
      }, "the revoked key to be refused", 15_000);
      expect(Date.now() - started).toBeLessThan(12_000);
      expect(refusal.errors[0]!.extensions.code).toBe("UNAUTHENTICATED");
    });

    it("returns invalid input and unknown ids as errors with field paths", async () => {
      const invalid = await graphql(endpoint, create, { input: { name: "", role: "VIEWER", sites: ["acme"] } }, adminKey);
      expect(invalid.data!.createApiKey.key).toBeNull();
      expect(invalid.data!.createApiKey.errors.map((e: { field: string[] }) => e.field)).toEqual([["input", "name"], ["input", "sites", "0"]]);
      const unknown = await graphql(endpoint, `mutation { revokeApiKey(id: "99999999999") { apiKey { id } errors { field message } } }`, {}, adminKey);
      expect(unknown.data!.revokeApiKey).toEqual({ apiKey: null, errors: [{ field: ["id"], message: "no API key has this id" }] });
    });
  });

  describe("the CLI", () => {
    const cli = promisify(execFile);
    let cliKey: { key: string; id: number };
    beforeAll(async () => {
      const { key, row } = await createApiKey(db, { name: "cli admin", role: "admin", sites: null, createdBy: "test" });
      cliKey = { key, id: row.id };
    });
    const run = (...args: string[]) =>
      cli(process.execPath, ["bin/plantgraph.js", "keys", ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: testDb.url, LOG_LEVEL: "silent", PLANTGRAPH_API_KEY: cliKey.key },
      });

    it("creates a key it prints once, lists keys without secrets, and revokes", async () => {
      const created = await run("create", "--name", "cli gateway", "--role", "technician", "--sites", "acme/plant-1,acme/plant-2", "--expires", "2099-01-01");
      const [keyLine, notice] = created.stdout.trimEnd().split("\n");
      expect(keyLine).toMatch(KEY);
      expect(notice).toMatch(/will not be shown again/);
      const identity = await verifyApiKey(db, keyLine!);
      expect(identity).toMatchObject({ name: "cli gateway", role: "technician", scope: { all: false, sites: ["acme/plant-1", "acme/plant-2"] } });
      const id = identity.id.slice("key:".length);
      expect((await listApiKeys(db)).find((k) => String(k.id) === id)).toMatchObject({ createdBy: `key:${cliKey.id}`, expiresAt: new Date("2099-01-01T00:00:00Z") });

      const listed = await run("list");
      const row = listed.stdout.split("\n").find((line) => line.startsWith(`${id} `));
      expect(row).toMatch(/cli gateway\s+[a-z0-9]{8}\s+technician\s+acme\/plant-1,acme\/plant-2\s+active/);
      expect(listed.stdout).not.toContain(keyLine!.slice(14));

      const revoked = await run("revoke", id);
      expect(revoked.stdout).toMatch(new RegExp(`^API key ${id} "cli gateway" revoked at `));
      await refusalOf(verifyApiKey(db, keyLine!));
      expect((await run("list")).stdout.split("\n").find((line) => line.startsWith(`${id} `))).toMatch(/\srevoked\s/);
    });

    it("refuses a bad site path with a message naming it", async () => {
      const failed = await run("create", "--name", "x", "--role", "viewer", "--sites", "acme").then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stderr).toContain('--sites "acme": expected "enterprise/site"');
    });
  });
});
