import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { securityEvents } from "../../schema/db/security.js";
import type { Identity } from "../../src/auth/identity.js";
import { parseConfig } from "../../src/config.js";
import { startHttpServer, type HttpServer } from "../../src/http/server.js";
import { createLogger } from "../../src/log/logger.js";
import { createHubPubSub, type PubSubHandle } from "../../src/pubsub/pubsub.js";
import { LatestValues } from "../../src/telemetry/latest-values.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { firstResults, post, wsClient } from "../support/graphql.js";
import { freePort } from "../support/mosquitto.js";
import { TEST_REDIS_URL } from "../support/services.js";
import { bearer, testIdentity, tokenAuthenticator } from "../support/test-authenticator.js";

/**
 * The query limits, schema hiding and rate limits of the real server, over HTTP and WebSocket.
 * Every test uses identities of its own, so one test's operations never count against another's.
 */

const LIMITS = {
  GRAPHQL_MAX_DEPTH: "7",
  GRAPHQL_MAX_COST: "1000",
  GRAPHQL_MAX_ALIASES: "3",
  GRAPHQL_MAX_DIRECTIVES: "3",
  GRAPHQL_MAX_TOKENS: "100",
  RATE_LIMIT_PER_MINUTE: "5",
};

interface GraphqlError {
  message: string;
  extensions?: Record<string, unknown>;
}
interface Body {
  data?: unknown;
  errors?: GraphqlError[];
}

const identities: Record<string, Identity> = {};
const log = createLogger("silent");

/** A token for a fresh admin identity, with the identity itself. */
function freshCaller(): { token: string; identity: Identity; headers: { authorization: string } } {
  const token = `t-${randomBytes(6).toString("hex")}`;
  identities[token] = testIdentity("admin");
  return { token, identity: identities[token], headers: bearer(token) };
}

let testDb: TestDatabase;
let pubsub: PubSubHandle;
const servers: HttpServer[] = [];

async function serverWith(env: Record<string, string>): Promise<HttpServer> {
  const config = parseConfig({ PORT: "0", ...LIMITS, ...env });
  const server = await startHttpServer({
    config,
    deps: {
      config,
      database: testDb.database,
      pubsub: pubsub.pubsub,
      latest: new LatestValues(testDb.database, undefined),
      log,
      authenticator: tokenAuthenticator(identities),
    },
    health: async () => ({}),
    log,
  });
  servers.push(server);
  return server;
}

async function overHttp(server: HttpServer, query: string, headers: Record<string, string>, variables?: unknown): Promise<{ status: number; body: Body; response: Response }> {
  const response = await post(server.url, { query, variables }, headers);
  return { status: response.status, body: (await response.json()) as Body, response };
}

/** The result of a one-result operation over WebSocket; errors the server sends instead of a result are returned as `{ errors }`. */
async function overWebSocket(server: HttpServer, query: string, headers: Record<string, string>, variables?: Record<string, unknown>): Promise<Body> {
  const client = wsClient(server.url, headers);
  try {
    const [result] = await firstResults(client, query, 1, variables);
    return result as Body;
  } catch (errors) {
    if (Array.isArray(errors)) return { errors: errors as GraphqlError[] };
    throw errors;
  } finally {
    await client.dispose();
  }
}

beforeAll(async () => {
  testDb = await createTestDatabase("graphql_limits");
  pubsub = createHubPubSub();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await pubsub?.close();
  await testDb?.drop();
});

const TOO_DEEP = "{ machines(first: 1) { edges { node { line { area { site { areas { lines { machines { name } } } } } } } } } }";
const TOO_COSTLY = "{ machines(first: 500) { edges { node { name } } } }";
const TOO_MANY_ALIASES = "{ a: enterprises { name } b: enterprises { name } c: enterprises { name } d: enterprises { name } }";
const TOO_MANY_DIRECTIVES =
  "{ enterprises @include(if: true) { name @include(if: true) id @include(if: true) sites @skip(if: false) { name } } }";
const TOO_MANY_TOKENS = `{ enterprises { ${Array.from({ length: 100 }, () => "name").join(" ")} } }`;
/** Within every limit: depth 6, cost 500, no aliases or directives, 31 tokens. */
const TYPICAL = "{ machines(first: 10) { edges { node { name metrics { name latest { value ts } } } } } }";

describe("query limits, over HTTP and WebSocket alike", () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await serverWith({ NODE_ENV: "development", REDIS_URL: TEST_REDIS_URL });
  });

  it("runs a typical query within every limit", async () => {
    const caller = freshCaller();
    const http = await overHttp(server, TYPICAL, caller.headers);
    expect(http).toMatchObject({ status: 200, body: { data: { machines: { edges: [] } } } });
    expect(http.body.errors).toBeUndefined();
    expect(await overWebSocket(server, TYPICAL, caller.headers)).toEqual({ data: { machines: { edges: [] } } });
  });

  const cases: [string, string, RegExp, string][] = [
    ["too deep", TOO_DEEP, /^Query depth limit of 7 exceeded, found 10\.$/, "GRAPHQL_VALIDATION_FAILED"],
    ["too costly", TOO_COSTLY, /^Query Cost limit of 1000 exceeded, found 6437\.5\.$/, "GRAPHQL_VALIDATION_FAILED"],
    ["with too many aliases", TOO_MANY_ALIASES, /^Aliases limit of 3 exceeded, found 4\.$/, "GRAPHQL_VALIDATION_FAILED"],
    ["with too many directives", TOO_MANY_DIRECTIVES, /^Directives limit of 3 exceeded, found 4\.$/, "GRAPHQL_VALIDATION_FAILED"],
    ["with too many tokens", TOO_MANY_TOKENS, /^Syntax Error: Document contains more th\w+ 100 tokens\. Parsing aborted\.$/, "GRAPHQL_PARSE_FAILED"],
  ];
  for (const [what, query, message, code] of cases) {
    it(`refuses a query ${what}, naming the limit`, async () => {
      const caller = freshCaller();
      const http = await overHttp(server, query, caller.headers);
      expect(http.status).toBe(400);
      expect(http.body.data).toBeUndefined();
      expect(http.body.errors).toHaveLength(1);
      expect(http.body.errors?.[0]?.message).toMatch(message);
      expect(http.body.errors?.[0]?.extensions?.code).toBe(code);

      const ws = await overWebSocket(server, query, caller.headers);
      expect(ws.data).toBeUndefined();
      expect(ws.errors).toHaveLength(1);
      expect(ws.errors?.[0]?.message).toMatch(message);
      expect(ws.errors?.[0]?.extensions?.code).toBe(code);
    });
  }

  it("counts depth through fragments too", async () => {
    const query = `{ machines(first: 1) { edges { node { ...deep } } } }
      fragment deep on Machine { line { area { site { areas { lines { machines { name } } } } } } }`;
    const caller = freshCaller();
    expect((await overHttp(server, query, caller.headers)).body.errors?.[0]?.message).toMatch(/^Query depth limit of 7 exceeded/);
    expect((await overWebSocket(server, query, caller.headers)).errors?.[0]?.message).toMatch(/^Query depth limit of 7 exceeded/);
  });

  it("answers 413 for an HTTP body over the limit, and closes a WebSocket sending a message over it", async () => {
    const caller = freshCaller();
    const pad = "x".repeat(1024 * 1024);
    const http = await overHttp(server, "{ enterprises { name } }", caller.headers, { pad });
    expect(http.status).toBe(413);
    expect(http.body).toEqual({ errors: [{ message: "request body larger than 1048576 bytes", extensions: { code: "PAYLOAD_TOO_LARGE" } }] });

    const socket = new WebSocket(server.url.replace(/^http/, "ws"), "graphql-transport-ws");
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { ...caller.headers, pad } })));
    expect(await closed).toBe(1009);
  });

  it("refuses the NUL character in literals and variables, which PostgreSQL cannot store", async () => {
    const literal = '{ machines(filter: { search: "a\\u0000b" }) { totalCount } }';
    const variable = "query ($search: String) { machines(filter: { search: $search }) { totalCount } }";
    const nested = "query ($filter: MachineFilter) { machines(filter: $filter) { totalCount } }";
    const message = "strings must not contain the NUL character (U+0000): it cannot be stored";
    const attempts: [string, Record<string, unknown> | undefined, string][] = [
      [literal, undefined, "GRAPHQL_VALIDATION_FAILED"],
      [variable, { search: "a\u0000b" }, "BAD_USER_INPUT"],
      [nested, { filter: { path: "x", search: "\u0000" } }, "BAD_USER_INPUT"],
    ];
    for (const [query, variables, code] of attempts) {
      const caller = freshCaller();
      const http = await overHttp(server, query, caller.headers, variables);
      expect(http.status).toBe(400);
      expect(http.body.errors).toMatchObject([{ message, extensions: { code } }]);
      const ws = await overWebSocket(server, query, caller.headers, variables);
      expect(ws.errors).toMatchObject([{ message, extensions: { code } }]);
    }
    // Other control characters are fine.
    expect((await overHttp(server, variable, freshCaller().headers, { search: "a\u0001\u202eb" })).body).toEqual({ data: { machines: { totalCount: 0 } } });
  });

  it("keeps field suggestions and introspection outside production", async () => {
    const caller = freshCaller();
    const http = await overHttp(server, "{ enterprises { nam } }", caller.headers);
    expect(http.body.errors?.[0]?.message).toBe('Cannot query field "nam" on type "Enterprise". Did you mean "name"?');
    const ws = await overWebSocket(server, "{ enterprises { nam } }", caller.headers);
    expect(ws.errors?.[0]?.message).toBe('Cannot query field "nam" on type "Enterprise". Did you mean "name"?');

    const introspection = '{ __schema { queryType { name } } __type(name: "Machine") { name } }';
    const expected = { data: { __schema: { queryType: { name: "Query" } }, __type: { name: "Machine" } } };
    expect((await overHttp(server, introspection, caller.headers)).body).toEqual(expected);
    expect(await overWebSocket(server, introspection, caller.headers)).toEqual(expected);
  });
});

describe("in production", () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await serverWith({ NODE_ENV: "production" });
  });

  it("leaves field suggestions out of validation errors", async () => {
    const caller = freshCaller();
    const http = await overHttp(server, "{ enterprises { nam } }", caller.headers);
    expect(http.status).toBe(400);
    expect(http.body.errors?.map((e) => e.message)).toEqual(['Cannot query field "nam" on type "Enterprise".']);
    const ws = await overWebSocket(server, "{ enterprises { nam } }", caller.headers);
    expect(ws.errors?.map((e) => e.message)).toEqual(['Cannot query field "nam" on type "Enterprise".']);
  });

  it("leaves enum suggestions out of variable errors", async () => {
    const caller = freshCaller();
    const query = "query ($reason: QuarantineReason) { quarantine(reason: $reason) { totalCount } }";
    const variables = { reason: "UNKNOWN_TOPI" };
    const http = await overHttp(server, query, caller.headers, variables);
    expect(http.status).toBe(400);
    const ws = await overWebSocket(server, query, caller.headers, variables);
    for (const errors of [http.body.errors, ws.errors]) {
      expect(errors).toHaveLength(1);
      expect(errors?.[0]?.message).toMatch(/Value "UNKNOWN_TOPI" does not exist in "QuarantineReason" enum\.$/);
    }
  });

  it("refuses introspection on both transports", async () => {
    const caller = freshCaller();
    for (const query of ["{ __schema { queryType { name } } }", '{ __type(name: "Machine") { name } }']) {
      const http = await overHttp(server, query, caller.headers);
      expect(http.status).toBe(400);
      expect(http.body.data).toBeUndefined();
      expect(http.body.errors?.[0]?.message).toMatch(/introspection has been disabled/);
      const ws = await overWebSocket(server, query, caller.headers);
      expect(ws.data).toBeUndefined();
      expect(ws.errors?.[0]?.message).toMatch(/introspection has been disabled/);
    }
  });

  it("still answers ordinary queries", async () => {
    const caller = freshCaller();
    expect((await overHttp(server, "{ enterprises { name } }", caller.headers)).body).toEqual({ data: { enterprises: [] } });
  });
});

describe("rate limits per identity", () => {
  const query = "{ enterprises { name } }";

  async function exceededEvents(identity: Identity) {
    return testDb.database.db.select().from(securityEvents).where(eq(securityEvents.actor, identity.id));
  }

  async function expectLimitedOverHttp(server: HttpServer) {
    const limited = freshCaller();
    const other = freshCaller();
    for (let i = 0; i < 5; i++) expect((await overHttp(server, query, limited.headers)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const refused = await overHttp(server, query, limited.headers);
      expect(refused.status).toBe(429);
      expect(refused.body.data).toBeUndefined();
      expect(refused.body.errors).toHaveLength(1);
      const [error] = refused.body.errors!;
      expect(error?.message).toMatch(/^rate limit exceeded: at most 5 operations a minute/);
      expect(error?.extensions?.code).toBe("RATE_LIMITED");
      const retryAfter = error?.extensions?.retryAfterSeconds as number;
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.response.headers.get("retry-after")).toBe(String(retryAfter));
      expect(error?.extensions).not.toHaveProperty("http");
    }
    // Someone else's budget is untouched.
    expect(await overHttp(server, query, other.headers)).toMatchObject({ status: 200, body: { data: { enterprises: [] } } });

    // Three refusals, one event: the table is not flooded.
    const events = await exceededEvents(limited.identity);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: "rate_limit.exceeded", outcome: "denied", detail: { limitPerMinute: 5 } });
    expect(await exceededEvents(other.identity)).toHaveLength(0);
  }

  it("answers 429 RATE_LIMITED past the limit (Redis), records one event, and leaves other identities alone", async () => {
    await expectLimitedOverHttp(await serverWith({ NODE_ENV: "test", REDIS_URL: TEST_REDIS_URL }));
  });

  it("counts in memory when no Redis is configured", async () => {
    await expectLimitedOverHttp(await serverWith({ NODE_ENV: "test" }));
  });

  it("keeps serving, and limiting, when Redis cannot be reached", async () => {
    const nobody = await freePort();
    await expectLimitedOverHttp(await serverWith({ NODE_ENV: "test", REDIS_URL: `redis://127.0.0.1:${nobody}` }));
  });

  it("answers an operation past the limit over WebSocket with a RATE_LIMITED error, on the same connection", async () => {
    const server = await serverWith({ NODE_ENV: "test", REDIS_URL: TEST_REDIS_URL });
    const limited = freshCaller();
    const client = wsClient(server.url, limited.headers);
    try {
      for (let i = 0; i < 5; i++) expect(await firstResults(client, query, 1)).toEqual([{ data: { enterprises: [] } }]);
      const refused = await firstResults(client, query, 1).then(
        () => undefined,
        (errors: unknown) => errors as GraphqlError[],
      );
      expect(refused).toHaveLength(1);
      expect(refused?.[0]?.message).toMatch(/^rate limit exceeded/);
      expect(refused?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: expect.any(Number) });
      // HTTP counts against the same budget.
      expect((await overHttp(server, query, limited.headers)).status).toBe(429);
    } finally {
      await client.dispose();
    }
    const other = freshCaller();
    expect(await overWebSocket(server, query, other.headers)).toEqual({ data: { enterprises: [] } });
  });
});
