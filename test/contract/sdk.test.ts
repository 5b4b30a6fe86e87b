import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeServer, type FakeServer } from "../../connectors/sdk/fake-server.js";
import { basicAuth, requestJson, retryAfterMsOf, toolErrorText } from "../../connectors/sdk/http.js";
import { testContext } from "../../connectors/sdk/contract.js";
import { ConnectorError } from "../../connectors/sdk/errors.js";
import { hmacSha256Hex, safeEqual, signTimestamped, verifyHmacSha256Hex, verifyTimestamped } from "../../connectors/sdk/webhook.js";

describe("sdk http", () => {
  let fake: FakeServer;
  const ctx = testContext();
  beforeAll(async () => {
    fake = await startFakeServer({
      routes: {
        "GET /items/:id": (req) => ({ body: { id: req.params.id, q: req.query.get("q") } }),
        "POST /echo": (req) => ({ status: 201, body: req.body }),
        "GET /slow": () => new Promise((resolve) => setTimeout(() => resolve({ body: "late" }), 500)),
        "GET /text": () => ({ body: "ok" }),
        "GET /empty": () => ({ status: 204 }),
      },
    });
  });
  afterAll(() => fake.close());

  it("sends JSON and query, decodes route params, parses JSON, text and empty bodies", async () => {
    expect((await requestJson(ctx, { method: "GET", url: `${fake.baseUrl}/items/a%2Fb`, query: { q: "x y", skip: undefined } })).body).toEqual({ id: "a/b", q: "x y" });
    const echoed = await requestJson(ctx, { method: "POST", url: `${fake.baseUrl}/echo`, json: { a: 1 } });
    expect(echoed).toMatchObject({ status: 201, body: { a: 1 } });
    expect(fake.requests.at(-1)?.headers["content-type"]).toBe("application/json");
    expect((await requestJson(ctx, { method: "GET", url: `${fake.baseUrl}/text` })).body).toBe("ok");
    expect((await requestJson(ctx, { method: "GET", url: `${fake.baseUrl}/empty` })).body).toBeUndefined();
  });

  it("times out as transient, and a refused connection is transient", async () => {
    await expect(requestJson(ctx, { method: "GET", url: `${fake.baseUrl}/slow`, timeoutMs: 50 })).rejects.toMatchObject({
      kind: "transient",
      message: expect.stringContaining("no answer within 50 ms"),
    });
    await expect(requestJson(ctx, { method: "GET", url: "http://127.0.0.1:1/x" })).rejects.toMatchObject({ kind: "transient" });
  });

  it("never echoes an auth header, names only the host for secret URLs, and keeps the tool's words", async () => {
    const token = basicAuth("bot@plant.example", "super-secret-token");
    fake.failNext(401, { body: { errorMessages: [`bad credentials ${token}`] } });
    const error = (await requestJson(ctx, {
      method: "GET",
      url: `${fake.baseUrl}/hooks/T000/B000/XXXXSECRET?sig=abc`,
      headers: { authorization: token },
      secretUrl: true,
    }).catch((e: unknown) => e)) as ConnectorError;
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error.kind).toBe("auth");
    expect(error.message).toContain("bad credentials [redacted]");
    expect(error.message).not.toContain("super-secret-token");
    expect(error.message).not.toContain(token.split(" ")[1]!);
    expect(error.message).not.toContain("XXXXSECRET");
    expect(error.message).not.toContain("sig=");
  });

  it("reads Retry-After as seconds or an HTTP date, else X-RateLimit-Reset", () => {
    const now = new Date("2030-01-01T00:00:00Z");
    expect(retryAfterMsOf(new Headers({ "retry-after": "7" }), now)).toBe(7000);
    expect(retryAfterMsOf(new Headers({ "retry-after": "Tue, 01 Jan 2030 00:00:30 GMT" }), now)).toBe(30_000);
    expect(retryAfterMsOf(new Headers({ "x-ratelimit-reset": String(now.getTime() / 1000 + 12) }), now)).toBe(12_000);
    expect(retryAfterMsOf(new Headers({ "x-ratelimit-reset": "5" }), now)).toBe(5000);
    expect(retryAfterMsOf(new Headers(), now)).toBeUndefined();
  });

  it("finds the tool's error text in Jira, ServiceNow, Redmine and plain bodies", () => {
    expect(toolErrorText({ errorMessages: ["No project"], errors: { summary: "required" } })).toBe("No project; summary: required");
    expect(toolErrorText({ error: { message: "Invalid table", detail: "incidentx" }, status: "failure" })).toBe("Invalid table; incidentx");
    expect(toolErrorText({ errors: ["Subject cannot be blank"] })).toBe("Subject cannot be blank");
    expect(toolErrorText("invalid_payload")).toBe("invalid_payload");
    expect(toolErrorText("<html>502</html>")).toBeUndefined();
  });

  it("failNext answers the next requests with the given status and headers, then the route again", async () => {
    fake.failNext(429, { times: 2, headers: { "Retry-After": "3" } });
    for (let i = 0; i < 2; i += 1) {
      await expect(requestJson(ctx, { method: "GET", url: `${fake.baseUrl}/text` })).rejects.toMatchObject({
        kind: "rate_limited",
        details: { status: 429, retryAfterMs: 3000 },
      });
    }
    expect((await requestJson(ctx, { method: "GET", url: `${fake.baseUrl}/text` })).body).toBe("ok");
  });
});

describe("sdk webhook", () => {
  const body = Buffer.from('{"event":"x"}');

  it("compares in constant time and refuses different lengths", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
  });

  it("checks prefixed hex HMAC signatures", () => {
    const signature = `sha256=${hmacSha256Hex("s3cret", body)}`;
    expect(verifyHmacSha256Hex("s3cret", signature, body, "sha256=")).toBe(true);
    expect(verifyHmacSha256Hex("other", signature, body, "sha256=")).toBe(false);
    expect(verifyHmacSha256Hex("", signature, body, "sha256=")).toBe(false);
    expect(verifyHmacSha256Hex("s3cret", undefined, body, "sha256=")).toBe(false);
  });

  it("signs with a timestamp and verifies only inside the tolerance window", () => {
    const t = 1_900_000_000;
    const header = signTimestamped("s3cret", t, body);
    expect(header).toMatch(/^t=1900000000,v1=[0-9a-f]{64}$/);
    expect(verifyTimestamped("s3cret", header, body, t * 1000 + 299_000)).toBe(true);
    expect(verifyTimestamped("s3cret", header, body, t * 1000 + 301_000)).toBe(false);
    expect(verifyTimestamped("s3cret", header, Buffer.from('{"event":"y"}'), t * 1000)).toBe(false);
    expect(verifyTimestamped("s3cret", header.replace(`t=${t}`, `t=${t + 1}`), body, t * 1000)).toBe(false);
    expect(verifyTimestamped("s3cret", `v1=deadbeef,${header}`, body, t * 1000)).toBe(true);
    expect(verifyTimestamped("s3cret", "garbage", body, t * 1000)).toBe(false);
  });
});
