import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { parseConfig } from "../../src/config.js";
import { startHub, type Hub } from "../../src/hub.js";
import {
  createIntegration,
  deleteIntegration,
  getIntegration,
  integrationByName,
  listIntegrations,
  readSecrets,
  rotateSecrets,
  updateIntegration,
} from "../../src/integrations/integration.service.js";
import { capturingLogger } from "../support/logger.js";
import { createSecretBox } from "../../src/secrets/secret-box.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { post } from "../support/graphql.js";
import { TEST_REDIS_URL } from "../support/services.js";

const key = () => randomBytes(32).toString("base64");
const [K0, K1, K2] = [key(), key(), key()];
const cli = { actor: "cli" };


async function securityEvents(testDb: TestDatabase, action: string) {
  const { rows } = await testDb.database.query<{ actor: string; resource: string | null; detail: Record<string, unknown> }>(
    "select actor, resource, detail from security_event where action = $1 order by id",
    [action],
  );
  return rows;
}

describe("integration service against PostgreSQL", () => {
  let testDb: TestDatabase;
  const { log, raw: lines } = capturingLogger("info");

  beforeAll(async () => {
    testDb = await createTestDatabase("integration_secrets");
  });

  afterAll(async () => {
    await testDb?.drop();
  });

  it("stores secrets sealed, reads them back, updates, lists and deletes", async () => {
    const { db } = testDb.database;
    const box = createSecretBox(`k1:${K1}`);
    const token = `tok-${randomBytes(8).toString("hex")}`;
    const created = await createIntegration(db, box, { kind: "jira", name: "jira-main", site: "acme/berlin", config: { baseUrl: "https://jira.example.com" }, secrets: { apiToken: token } }, cli);
    expect(created).toMatchObject({ kind: "jira", name: "jira-main", site: "acme/berlin", config: { baseUrl: "https://jira.example.com" }, secretsKeyId: "k1", version: 1 });
    expect(created.secretsCiphertext).not.toContain(token);
    expect(await readSecrets(db, box, created.id)).toEqual({ apiToken: token });

    // Config alone leaves the sealed secrets exactly as they were.
    const configured = await updateIntegration(db, undefined, created.id, { config: { baseUrl: "https://jira2.example.com" } }, cli);
    expect(configured).toMatchObject({ config: { baseUrl: "https://jira2.example.com" }, secretsCiphertext: created.secretsCiphertext, version: 2 });

    const replaced = await updateIntegration(db, box, created.id, { secrets: { apiToken: "new-token", user: "bot" } }, cli);
    expect(replaced?.secretsCiphertext).not.toBe(created.secretsCiphertext);
    expect(replaced?.config).toEqual({ baseUrl: "https://jira2.example.com" });
    expect(await readSecrets(db, box, created.id)).toEqual({ apiToken: "new-token", user: "bot" });

    await createIntegration(db, box, { kind: "webhook", name: "hook-everywhere", secrets: {} }, cli);
    expect((await listIntegrations(db)).map((r) => r.name)).toEqual(["hook-everywhere", "jira-main"]);
    expect((await listIntegrations(db, ["acme/berlin"])).map((r) => r.name)).toEqual(["jira-main"]);
    expect(await listIntegrations(db, [])).toEqual([]);

    const events = await securityEvents(testDb, "integration.secrets_set");
    expect(events.slice(0, 2)).toEqual([
      { actor: "cli", resource: `integration:${created.id}`, detail: { name: "jira-main", kind: "jira", secretKeys: ["apiToken"], keyId: "k1" } },
      { actor: "cli", resource: `integration:${created.id}`, detail: { name: "jira-main", kind: "jira", secretKeys: ["apiToken", "user"], keyId: "k1" } },
    ]);
    expect(JSON.stringify(events)).not.toMatch(/tok-|new-token|"bot"/);

    expect(await deleteIntegration(db, created.id, { actor: "user:test" })).toMatchObject({ name: "jira-main" });
    expect(await getIntegration(db, created.id)).toBeUndefined();
    expect(await readSecrets(db, box, created.id)).toBeUndefined();
    await deleteIntegration(db, (await integrationByName(db, "hook-everywhere"))!.id, { actor: "user:test" });
  });

  it("refuses to open a ciphertext copied to another row", async () => {
    const { db } = testDb.database;
    const box = createSecretBox(`k1:${K1}`);
    const a = await createIntegration(db, box, { kind: "slack", name: "copy-a", secrets: { botToken: "xoxb-a" } }, cli);
    const b = await createIntegration(db, box, { kind: "slack", name: "copy-b", secrets: { botToken: "xoxb-b" } }, cli);
    await testDb.database.query("update integration set secrets_ciphertext = $1, secrets_key_id = $2 where id = $3", [a.secretsCiphertext, a.secretsKeyId, b.id]);
    await expect(readSecrets(db, box, b.id)).rejects.toThrow(
      "secrets of integration:copy-b cannot be decrypted with key k1: it was altered, belongs to another record, or was sealed with a different key of that id",
    );
    expect(await readSecrets(db, box, a.id)).toEqual({ botToken: "xoxb-a" });
    await deleteIntegration(db, a.id, { actor: "user:test" });
    await deleteIntegration(db, b.id, { actor: "user:test" });
  });

  it("rotates every row to the new first key, after which the old key can be dropped without data loss", async () => {
    const { db } = testDb.database;
    const old = createSecretBox(`k1:${K1}`);
    const expected = new Map<string, Record<string, string>>();
    for (let i = 0; i < 5; i++) {
      const secrets = { apiToken: `rot-${i}-${randomBytes(6).toString("hex")}` };
      const row = await createIntegration(db, old, { kind: "jira", name: `rot-${i}`, secrets }, cli);
      expected.set(row.name, secrets);
    }
    const newFirst = createSecretBox(`k2:${K2},k1:${K1}`);
    // Written under the new keyring before the rotation: already current.
    const fresh = await createIntegration(db, newFirst, { kind: "jira", name: "rot-fresh", secrets: { apiToken: "fresh" } }, cli);
    expected.set(fresh.name, { apiToken: "fresh" });

    const progressFrom = lines.length;
    const result = await rotateSecrets(db, newFirst, { actor: "cli", log });
    expect(result).toEqual({ activeKeyId: "k2", rotated: { k1: 5 }, rotatedTotal: 5, alreadyCurrent: 1 });
    const progress = lines.slice(progressFrom).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(progress).toContainEqual(expect.objectContaining({ msg: "rotating integration secrets", toRotate: 5, alreadyCurrent: 1 }));
    expect(progress).toContainEqual(expect.objectContaining({ msg: "rotating integration secrets: progress", done: 5, of: 5 }));

    const rows = await listIntegrations(db);
    expect(rows.map((r) => r.secretsKeyId)).toEqual(rows.map(() => "k2"));
    // k1 removed from the keyring: every row still opens.
    const newOnly = createSecretBox(`k2:${K2}`);
    for (const row of rows) expect(await readSecrets(db, newOnly, row.id)).toEqual(expected.get(row.name));

    expect(await rotateSecrets(db, newOnly, { actor: "cli", log })).toEqual({ activeKeyId: "k2", rotated: {}, rotatedTotal: 0, alreadyCurrent: 6 });
    expect((await securityEvents(testDb, "secrets.rotated")).map((e) => e.detail)).toEqual([
      { activeKeyId: "k2", rotated: { k1: 5 }, rotatedTotal: 5, alreadyCurrent: 1 },
      { activeKeyId: "k2", rotated: {}, rotatedTotal: 0, alreadyCurrent: 6 },
    ]);
    for (const row of rows) await deleteIntegration(db, row.id, { actor: "user:test" });
  });

  it("changes nothing when one row's key is missing from the keyring", async () => {
    const { db } = testDb.database;
    const first = await createIntegration(db, createSecretBox(`k1:${K1}`), { kind: "jira", name: "atomic-1", secrets: { apiToken: "one" } }, cli);
    const orphan = await createIntegration(db, createSecretBox(`k0:${K0}`), { kind: "jira", name: "atomic-2", secrets: { apiToken: "two" } }, cli);
    await expect(rotateSecrets(db, createSecretBox(`k2:${K2},k1:${K1}`), { actor: "cli", log })).rejects.toThrow(
      "secrets of integration:atomic-2 are encrypted with key k0 which is not in SECRETS_KEYS",
    );
    // The row rotated before the failure was rolled back with the rest.
    expect(await getIntegration(db, first.id)).toEqual(first);
    expect(await getIntegration(db, orphan.id)).toEqual(orphan);
    expect((await securityEvents(testDb, "secrets.rotated")).at(-1)).toEqual({
      actor: "cli",
      resource: "integration",
      detail: { activeKeyId: "k2", reason: "secrets of integration:atomic-2 are encrypted with key k0 which is not in SECRETS_KEYS" },
    });
    await deleteIntegration(db, first.id, { actor: "user:test" });
    await deleteIntegration(db, orphan.id, { actor: "user:test" });
  });
});

/**
 * THE SECRETS GREP TEST: plant distinctive secrets through the real server, exercise every path
 * that could carry them, then search every response, every log line (at trace level), every row of
 * every table, and every Redis key. The planted values must be nowhere but inside ciphertext.
 */
describe("secrets grep over the real server", () => {
  let testDb: TestDatabase;
  let hub: Hub;
  let redis: Redis;
  let adminKey: string;
  let berlinKey: string;
  let viewerKey: string;
  const { log, raw: lines } = capturingLogger("trace");
  const box = createSecretBox(`k1:${K1}`);
  const responses: string[] = [];
  const plant = () => `s3cr3t-${randomBytes(12).toString("hex")}`;
  const [token, webhookSecret, replacedToken, invalidInputSecret, takenNameSecret] = [plant(), plant(), plant(), plant(), plant()];
  const [deniedSecret, inlineSecret, outOfScopeSecret, orphanSecret, coercionSecret] = [plant(), plant(), plant(), plant(), plant()];
  /** Valid Jira settings besides the secrets (the connector's schema checks config and secrets together). */
  const jiraConfig = { baseUrl: "https://jira.example.com", email: "bot@example.com", projectKey: "MAINT" };
  const slackUrl = (secret: string) => `https://hooks.slack.com/services/T000/B000/${secret}`;
  const planted = [token, webhookSecret, replacedToken, invalidInputSecret, takenNameSecret, deniedSecret, inlineSecret, outOfScopeSecret, orphanSecret, coercionSecret];

  async function gql<T = any>(query: string, variables: Record<string, unknown>, apiKey: string): Promise<{ data?: T; errors?: any[] }> {
    const response = await post(hub.graphqlUrl!, { query, variables }, { authorization: `Bearer ${apiKey}` });
    const text = await response.text();
    responses.push(`${response.status} ${JSON.stringify([...response.headers])} ${text}`);
    return JSON.parse(text) as never;
  }

  const CREATE = `mutation($input: CreateIntegrationInput!) {
    createIntegration(input: $input) { integration { id kind name site config secretKeys updatedAt } errors { field message } }
  }`;
  const UPDATE = `mutation($input: UpdateIntegrationInput!) {
    updateIntegration(input: $input) { integration { id kind name site config secretKeys updatedAt } errors { field message } }
  }`;

  beforeAll(async () => {
    testDb = await createTestDatabase("integration_secrets_grep");
    adminKey = (await createApiKey(testDb.database.db, { name: "grep-admin", role: "admin", sites: null, createdBy: "test" })).key;
    berlinKey = (await createApiKey(testDb.database.db, { name: "grep-berlin", role: "engineer", sites: ["acme/berlin"], createdBy: "test" })).key;
    viewerKey = (await createApiKey(testDb.database.db, { name: "grep-viewer", role: "viewer", sites: null, createdBy: "test" })).key;
    const config = parseConfig({
      NODE_ENV: "test",
      DATABASE_URL: testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      PORT: "0",
      SIMULATOR: "false",
      SECRETS_KEYS: `k1:${K1}`,
      LOG_LEVEL: "trace",
    });
    hub = await startHub({ config, roles: ["api"], log });
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await hub?.stop();
    redis?.disconnect();
    await testDb?.drop();
  });

  it("stores and replaces secrets over GraphQL and shows only their names", async () => {
    const created = await gql(CREATE, { input: { kind: "jira", name: "jira-berlin", site: "acme/berlin", config: jiraConfig, secrets: { apiToken: token, webhookSecret }, verify: false } }, adminKey);
    expect(created.errors).toBeUndefined();
    const integration = created.data.createIntegration.integration;
    expect(integration).toMatchObject({ kind: "jira", name: "jira-berlin", site: "acme/berlin", config: { baseUrl: "https://jira.example.com" }, secretKeys: ["apiToken", "webhookSecret"] });
    expect(await readSecrets(testDb.database.db, box, Number(integration.id))).toEqual({ apiToken: token, webhookSecret });

    // The new secrets replace every stored one (Jira needs both, so both are given again).
    const updated = await gql(UPDATE, { input: { id: integration.id, secrets: { apiToken: replacedToken, webhookSecret }, verify: false } }, adminKey);
    expect(updated.data.updateIntegration).toMatchObject({ integration: { secretKeys: ["apiToken", "webhookSecret"], config: { baseUrl: "https://jira.example.com" } }, errors: [] });
    expect(await readSecrets(testDb.database.db, box, Number(integration.id))).toEqual({ apiToken: replacedToken, webhookSecret });

    // A secret written into the query text itself, not a variable.
    const inline = await gql(
      `mutation { createIntegration(input: { kind: "slack", name: "slack-all", secrets: { webhookUrl: "${slackUrl(inlineSecret)}" }, verify: false }) { integration { name secretKeys } errors { message } } }`,
      {},
      adminKey,
    );
    expect(inline.data.createIntegration).toEqual({ integration: { name: "slack-all", secretKeys: ["webhookUrl"] }, errors: [] });
  });

  it("keeps site scope: other sites' and site-less integrations are invisible to a one-site key", async () => {
    await gql(CREATE, { input: { kind: "jira", name: "jira-paris", site: "acme/paris", config: jiraConfig, secrets: { apiToken: "paris-token", webhookSecret: "paris-hook" }, verify: false } }, adminKey);
    const seen = await gql(`{ integrations { name site } }`, {}, berlinKey);
    expect(seen).toEqual({ data: { integrations: [{ name: "jira-berlin", site: "acme/berlin" }] } });
    const all = await gql(`{ integrations { name } }`, {}, adminKey);
    expect(all.data.integrations.map((i: { name: string }) => i.name)).toEqual(["jira-berlin", "jira-paris", "slack-all"]);

    const paris = (await integrationByName(testDb.database.db, "jira-paris"))!;
    const outOfScope = await gql(UPDATE, { input: { id: String(paris.id), secrets: { apiToken: outOfScopeSecret } } }, berlinKey);
    expect(outOfScope.data.updateIntegration).toEqual({ integration: null, errors: [{ field: ["input", "id"], message: "no integration has this id" }] });
    const deleted = await gql(`mutation($id: ID!) { deleteIntegration(id: $id) { deletedId errors { message } } }`, { id: String(paris.id) }, berlinKey);
    expect(deleted.data.deleteIntegration).toEqual({ deletedId: null, errors: [{ message: "no integration has this id" }] });
    const siteLess = await gql(CREATE, { input: { kind: "webhook", name: "hook-all", secrets: {} } }, berlinKey);
    expect(siteLess.data.createIntegration.errors).toEqual([{ field: ["input", "site"], message: "an integration for every site needs access to every site" }]);
  });

  it("answers error paths without echoing the secrets", async () => {
    const invalid = await gql(CREATE, { input: { kind: "Not A Kind", name: "bad", secrets: { apiToken: invalidInputSecret, retries: 5, "": "x" } } }, adminKey);
    expect(invalid.data.createIntegration).toEqual({
      integration: null,
      errors: [
        { field: ["input", "kind"], message: "expected a connector kind: lower-case letters, digits, '_' or '-'" },
        { field: ["input", "secrets", "retries"], message: "expected a string value" },
        { field: ["input", "secrets", ""], message: "secret names are 1-64 letters, digits, '_', '.' or '-', starting with a letter" },
      ],
    });

    const taken = await gql(CREATE, { input: { kind: "jira", name: "jira-berlin", site: "acme/berlin", secrets: { apiToken: takenNameSecret } } }, adminKey);
    expect(taken.data.createIntegration.errors).toEqual([{ field: ["input", "name"], message: "an integration named jira-berlin exists already" }]);

    const denied = await gql(CREATE, { input: { kind: "jira", name: "denied", secrets: { apiToken: deniedSecret } } }, viewerKey);
    expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await integrationByName(testDb.database.db, "denied")).toBeUndefined();

    const uncoercible = await gql(CREATE, { input: { name: "no-kind", secrets: { apiToken: coercionSecret } } }, adminKey);
    expect(uncoercible.errors).toEqual([
      expect.objectContaining({
        message: 'Variable "$input" got invalid value; Field "kind" of required type "String!" was not provided.',
        extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }),
      }),
    ]);

    // Sealed under a key the hub does not have: reading its names is an unexpected error, logged.
    const orphan = await createIntegration(testDb.database.db, createSecretBox(`k0:${K0}`), { kind: "jira", name: "orphan", secrets: { apiToken: orphanSecret } }, cli);
    const unreadable = await gql(`{ integrations { name secretKeys } }`, {}, adminKey);
    expect(unreadable.errors).toEqual([expect.objectContaining({ message: "Internal server error", path: ["integrations", 2, "secretKeys"] })]);
    const logged = lines.map((l) => JSON.parse(l) as { msg?: string; err?: { message?: string } }).find((l) => l.msg === "unexpected error in a GraphQL operation");
    expect(logged?.err?.message).toBe("secrets of integration:orphan are encrypted with key k0 which is not in SECRETS_KEYS");
    await deleteIntegration(testDb.database.db, orphan.id, { actor: "user:test" });
  });

  it("finds the planted secrets in no response, log line, database row or Redis key", async () => {
    const everything = await gql(
      `{
        integrations { id kind name site config secretKeys updatedAt }
        securityEvents(first: 50) { edges { node { id at action actor outcome resource detail requestId } } }
      }`,
      {},
      adminKey,
    );
    expect(everything.errors).toBeUndefined();
    expect(everything.data.integrations).toHaveLength(3);
    expect(everything.data.securityEvents.edges.map((e: any) => e.node.action)).toEqual(expect.arrayContaining(["INTEGRATION_SECRETS_SET", "AUTH_DENIED"]));

    // Controls: each place searched holds what passed through it, so an empty search means something.
    expect(responses.length).toBeGreaterThanOrEqual(10);
    expect(lines.length).toBeGreaterThanOrEqual(3);

    const tables = await tableDump(testDb);
    expect(tables.integration?.join("\n")).toContain("jira-berlin");
    expect(tables.security_event?.join("\n")).toContain("integration.secrets_set");

    const canary = `canary-${randomBytes(6).toString("hex")}`;
    const redisDump = await withCanaryKeys(redis, canary, () => dumpRedis(redis));
    for (const type of ["string", "hash", "list", "set", "zset"]) expect(redisDump).toContain(`${type} ${canaryKey(canary, type)}`);
    expect(redisDump.match(new RegExp(canary, "g"))?.length).toBeGreaterThanOrEqual(10);
    // Only the rate limiter's counters and pubsub channels (no keys) live in Redis today. There are no
    // BullMQ jobs yet; once workers exist this same dump covers their job payloads.

    const places: Record<string, string> = {
      "HTTP responses": responses.join("\n"),
      "log lines": lines.join(""),
      "Redis keys": redisDump,
      ...Object.fromEntries(Object.entries(tables).map(([table, rows]) => [`table ${table}`, rows.join("\n")])),
    };
    const leaks = Object.entries(places).flatMap(([place, text]) => planted.filter((secret) => text.includes(secret)).map((secret) => `${secret} in ${place}`));
    expect(leaks).toEqual([]);

    // And the secrets are there, sealed: the search looked at the right rows.
    const stored = await Promise.all(everything.data.integrations.map((i: { id: string }) => readSecrets(testDb.database.db, box, Number(i.id))));
    expect(stored.flatMap((s) => Object.values(s ?? {}))).toEqual(expect.arrayContaining([replacedToken, slackUrl(inlineSecret)]));
  });
});

/** Every row of every table in the test database, as text, by table name. */
async function tableDump(testDb: TestDatabase): Promise<Record<string, string[]>> {
  const { rows: tables } = await testDb.database.query<{ table_schema: string; table_name: string }>(
    "select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'",
  );
  const dump: Record<string, string[]> = {};
  for (const { table_schema, table_name } of tables) {
    const { rows } = await testDb.database.query<{ row: string }>(`select t::text as row from "${table_schema}"."${table_name}" t`);
    dump[table_name] = rows.map((r) => r.row);
  }
  return dump;
}

/** `type key value...` for every key in Redis, whatever its type. Keys may expire mid-scan. */
async function dumpRedis(redis: Redis): Promise<string> {
  const out: string[] = [];
  for (const key of await redis.keys("*")) {
    const type = await redis.type(key);
    let values: unknown;
    switch (type) {
      case "string":
        values = await redis.get(key);
        break;
      case "hash":
        values = await redis.hgetall(key);
        break;
      case "list":
        values = await redis.lrange(key, 0, -1);
        break;
      case "set":
        values = await redis.smembers(key);
        break;
      case "zset":
        values = await redis.zrange(key, "0", "-1", "WITHSCORES");
        break;
      case "stream":
        values = await redis.xrange(key, "-", "+");
        break;
      case "none":
        continue;
      default:
        values = `unsupported type ${type}`;
    }
    out.push(`${type} ${key} ${JSON.stringify(values)}`);
  }
  return out.join("\n");
}

const canaryKey = (canary: string, type: string) => `plantgraph-test:${canary}:${type}`;

/** Proves `dumpRedis` reads every type: one key of each, holding the canary, for the duration of `run`. */
async function withCanaryKeys<T>(redis: Redis, canary: string, run: () => Promise<T>): Promise<T> {
  const k = (type: string) => canaryKey(canary, type);
  await redis.set(k("string"), canary);
  await redis.hset(k("hash"), "field", canary);
  await redis.rpush(k("list"), canary);
  await redis.sadd(k("set"), canary);
  await redis.zadd(k("zset"), 1, canary);
  try {
    return await run();
  } finally {
    await redis.del(...["string", "hash", "list", "set", "zset"].map(k));
  }
}
