import path from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantFile } from "../../src/assets/plant-apply.js";
import { parseConfig } from "../../src/config.js";
import type { Database } from "../../src/db/database.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startHttpServer, type HealthReport, type HttpServer } from "../../src/http/server.js";
import { createLogger } from "../../src/log/logger.js";
import { capturingLogger } from "../support/logger.js";
import { createHubPubSub, type PubSubHandle } from "../../src/pubsub/pubsub.js";
import { LatestValues } from "../../src/telemetry/latest-values.js";
import { createPgliteDatabase, createTestDatabase, type TestDatabase } from "../support/database.js";
import { firstResults, post, wsClient } from "../support/graphql.js";
import type { Authenticator } from "../../src/auth/authentication.js";
import { FAILED_SIGN_INS_PER_MINUTE } from "../../src/http/access-guard.js";
import { bearer, testIdentity, tokenAuthenticator } from "../support/test-authenticator.js";

const FILLER = "demo/plant-1/production/packaging/filler-1";
const ADMIN = "admin-token";
const authenticator = tokenAuthenticator({ [ADMIN]: testIdentity("admin") });
const asAdmin = bearer(ADMIN);

/** The close code and reason of a socket; fails on a socket error. */
function closeOf(socket: WebSocket): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    socket.once("close", (code, reason) => resolve([code, reason.toString()]));
    socket.once("error", reject);
  });
}


describe("HTTP server", () => {
  let testDb: TestDatabase;
  let pubsub: PubSubHandle;
  let server: HttpServer;
  let health: HealthReport = { database: { ok: true } };
  let fillerId: number;

  beforeAll(async () => {
    testDb = await createTestDatabase("http_server");
    const log = createLogger("silent");
    await applyPlantFile(testDb.database, path.resolve("src/demo/demo-plant.yaml"), log);
    fillerId = (await machineByPath(testDb.database.db, FILLER))!.id;
    pubsub = createHubPubSub();
    const config = parseConfig({ NODE_ENV: "test", PORT: "0" });
    server = await startHttpServer({
      config,
      deps: { config, database: testDb.database, pubsub: pubsub.pubsub, latest: new LatestValues(testDb.database, undefined), log, authenticator },
      health: async () => health,
      log,
    });
  });

  afterAll(async () => {
    await server?.close();
    await pubsub?.close();
    await testDb?.drop();
  });

  it("listens on the free port it was given and reports it", () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/graphql`);
  });

  it("answers /healthz while up and /readyz according to the checks", async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const live = await fetch(`${base}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });

    health = { database: { ok: true }, mqtt: { ok: true } };
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: health });

    health = { database: { ok: true }, mqtt: { ok: false, detail: "reconnecting" } };
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: "not_ready", checks: health });
    health = { database: { ok: true } };
  });

  it("serves queries and echoes the caller's request id", async () => {
    const response = await post(server.url, { query: "{ enterprises { name } }" }, { ...asAdmin, "x-request-id": "req-42" });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe("req-42");
    expect(await response.json()).toEqual({ data: { enterprises: [{ name: "demo" }] } });
  });

  it("keeps validation errors visible", async () => {
    const response = await post(server.url, { query: "{ enterprises { nope } }" }, asAdmin);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]?.message).toContain('Cannot query field "nope"');
    expect(body.errors[0]?.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("rejects simple-request POSTs (CSRF prevention)", async () => {
    const response = await fetch(server.url, {
      method: "POST",
      headers: { ...asAdmin, "content-type": "text/plain" },
      body: JSON.stringify({ query: "{ enterprises { name } }" }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Cross-Site Request Forgery/);
  });

  it("answers 401 UNAUTHENTICATED without credentials, with the authenticator's message", async () => {
    const response = await post(server.url, { query: "{ enterprises { name } }" });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await response.json()).toEqual({
      errors: [{ message: "authentication required: send Authorization: Bearer <API key or token>", extensions: { code: "UNAUTHENTICATED" } }],
    });
  });

  it("answers 401 UNAUTHENTICATED for a credential it does not know", async () => {
    const response = await post(server.url, { query: "{ enterprises { name } }" }, bearer("stolen"));
    expect(response.status).toBe(401);
    const body = (await response.json()) as { data?: unknown; errors: { message: string; extensions: { code: string } }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors).toEqual([{ message: "invalid API key", extensions: { code: "UNAUTHENTICATED" } }]);
  });

  it("answers 400 with a GraphQL error for a body that is not JSON", async () => {
    const response = await fetch(server.url, { method: "POST", headers: { ...asAdmin, "content-type": "application/json" }, body: "{ nope" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe("BAD_REQUEST");
  });

  it("closes a WebSocket that never sends connection_init with 4408", async () => {
    const socket = new WebSocket(server.url.replace(/^http/, "ws"), "graphql-transport-ws");
    const started = Date.now();
    const [code] = await closeOf(socket);
    expect(code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
  });

  it("closes a WebSocket whose connection_init carries a bad credential with 4403, and one without any", async () => {
    for (const payload of [bearer("stolen"), {}]) {
      const socket = new WebSocket(server.url.replace(/^http/, "ws"), "graphql-transport-ws");
      socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload })));
      const [code, reason] = await closeOf(socket);
      expect([code, reason]).toEqual([4403, "Forbidden"]);
    }
  });

  it("accepts the credential as `Authorization` in connection_init too", async () => {
    const client = wsClient(server.url, { Authorization: `Bearer ${ADMIN}` });
    try {
      expect(await firstResults(client, "{ enterprises { name } }", 1)).toEqual([{ data: { enterprises: [{ name: "demo" }] } }]);
    } finally {
      await client.dispose();
    }
  });

  it("allows introspection outside production", async () => {
    const response = await post(server.url, { query: "{ __schema { queryType { name } } }" }, asAdmin);
    expect(await response.json()).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
  });

  it("streams subscriptions over WebSocket on the same path", async () => {
    const client = wsClient(server.url, asAdmin);
    try {
      const machineId = globalId("Machine", fillerId);
      const received = firstResults(client, `subscription { readingAdded(machineId: "${machineId}") { metric value ts } }`, 1);
      // The subscription is registered asynchronously; publish until it hears one.
      const publishing = setInterval(() => {
        pubsub.pubsub.publish("READING_ADDED", fillerId, [
          { dataPointId: 1, machineId: fillerId, metric: "temperature", value: 61.5, ts: "2026-01-01T00:00:00.000Z", quality: "good" },
        ]);
      }, 20);
      try {
        expect(await received).toEqual([
          { data: { readingAdded: { metric: "temperature", value: 61.5, ts: "2026-01-01T00:00:00.000Z" } } },
        ]);
      } finally {
        clearInterval(publishing);
      }
    } finally {
      await client.dispose();
    }
  });

  it("keeps user-input errors of subscriptions visible", async () => {
    const client = wsClient(server.url, asAdmin);
    try {
      const results = await firstResults(client, `subscription { readingAdded(machineId: "nope") { value } }`, 1);
      expect(results[0]).toMatchObject({
        errors: [{ message: "`machineId` is not a machine you can see", extensions: { code: "BAD_USER_INPUT" } }],
      });
    } finally {
      await client.dispose();
    }
  });
});

describe("HTTP server in production, with its database gone", () => {
  let database: Database;
  let server: HttpServer;
  const { log, lines } = capturingLogger();

  beforeAll(async () => {
    database = await createPgliteDatabase();
    await database.close();
    const config = parseConfig({ NODE_ENV: "production", PORT: "0" });
    const pubsub = createHubPubSub().pubsub;
    server = await startHttpServer({
      config,
      deps: { config, database, pubsub, latest: new LatestValues(database, undefined), log, authenticator },
      health: async () => ({ database: { ok: false, detail: "closed" } }),
      log,
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it("masks unexpected errors and logs the original under the request id", async () => {
    const response = await post(server.url, { query: "{ enterprises { name } }" }, { ...asAdmin, "x-request-id": "masked-1" });
    const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toMatchObject({
      message: "Internal server error",
      extensions: { code: "INTERNAL_SERVER_ERROR", correlationId: "masked-1" },
    });
    expect(JSON.stringify(body)).not.toMatch(/closed|pglite/i);

    const logged = lines.find((l) => l.correlationId === "masked-1");
    expect(logged).toMatchObject({ level: 50, msg: "unexpected error in a GraphQL operation" });
    expect((logged?.err as { message?: string } | undefined)?.message).toBeTruthy();
  });

  it("gives a masked error a fresh correlation id when the caller sent none", async () => {
    const response = await post(server.url, { query: "{ enterprises { name } }" }, asAdmin);
    const body = (await response.json()) as { errors: { extensions: { correlationId: string } }[] };
    const correlationId = body.errors[0]?.extensions.correlationId;
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("x-request-id")).toBe(correlationId);
  });

  it("turns introspection off", async () => {
    const response = await post(server.url, { query: "{ __schema { queryType { name } } }" }, asAdmin);
    const body = (await response.json()) as { errors?: { message: string }[] };
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it("answers /readyz with 503 when a check fails", async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: "not_ready", checks: { database: { ok: false, detail: "closed" } } });
  });
});

describe("failed sign-ins", () => {
  it(`refuses an address with 429 after ${FAILED_SIGN_INS_PER_MINUTE} failures a minute, before asking the authenticator`, async () => {
    const database = await createPgliteDatabase();
    const config = parseConfig({ NODE_ENV: "test", PORT: "0" });
    const log = createLogger("silent");
    let asked = 0;
    const counting: Authenticator = {
      authenticate: (header, meta) => {
        asked++;
        return authenticator.authenticate(header, meta);
      },
    };
    const server = await startHttpServer({
      config,
      deps: { config, database, pubsub: createHubPubSub().pubsub, latest: new LatestValues(database, undefined), log, authenticator: counting },
      health: async () => ({}),
      log,
    });
    try {
      const attempt = () => post(server.url, { query: "{ enterprises { name } }" }, bearer("guess"));
      for (let i = 0; i < FAILED_SIGN_INS_PER_MINUTE; i++) expect((await attempt()).status).toBe(401);
      const refused = await attempt();
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("RATE_LIMITED");
      expect(asked).toBe(FAILED_SIGN_INS_PER_MINUTE);
      // The WebSocket side counts the same address: its init is refused as well.
      const socket = new WebSocket(server.url.replace(/^http/, "ws"), "graphql-transport-ws");
      socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: bearer("guess") })));
      expect(await closeOf(socket)).toEqual([4403, "Forbidden"]);
      expect(asked).toBe(FAILED_SIGN_INS_PER_MINUTE);
    } finally {
      await server.close();
      await database.close();
    }
  });
});

describe("HTTP server close", () => {
  it("closes open WebSockets, frees the port, and may be called twice", async () => {
    const database = await createPgliteDatabase();
    const config = parseConfig({ NODE_ENV: "test", PORT: "0" });
    const log = createLogger("silent");
    const pubsub = createHubPubSub().pubsub;
    const server = await startHttpServer({
      config,
      deps: { config, database, pubsub, latest: new LatestValues(database, undefined), log, authenticator },
      health: async () => ({}),
      log,
    });
    try {
      const socket = new WebSocket(server.url.replace(/^http/, "ws"), "graphql-transport-ws");
      await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
      const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));

      await Promise.all([server.close(), server.close()]);
      expect(await closed).toBe(1001);
      await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
    } finally {
      await server.close();
      await database.close();
    }
  });

  it("fails to start when the port is taken", async () => {
    const database = await createPgliteDatabase();
    const log = createLogger("silent");
    const pubsub = createHubPubSub().pubsub;
    const first = await startHttpServer({
      config: parseConfig({ NODE_ENV: "test", PORT: "0" }),
      deps: { config: parseConfig({}), database, pubsub, latest: new LatestValues(database, undefined), log, authenticator },
      health: async () => ({}),
      log,
    });
    try {
      const config = parseConfig({ NODE_ENV: "test", PORT: String(first.port) });
      await expect(
        startHttpServer({ config, deps: { config, database, pubsub, latest: new LatestValues(database, undefined), log, authenticator }, health: async () => ({}), log }),
      ).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await first.close();
      await database.close();
    }
  });
});
