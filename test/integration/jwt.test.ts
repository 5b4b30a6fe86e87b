import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthenticationError, type Authenticator } from "../../src/auth/authentication.js";
import { createAuthenticator } from "../../src/auth/authenticator.js";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/log/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/**
 * OIDC bearer tokens against a local identity provider: a node:http server publishing a discovery
 * document and a JWKS with an RS256 and an ES256 key. Every refusal must be an
 * AuthenticationError and leave an `auth.failed` event that does not contain the token.
 */

const AUDIENCE = "plantgraph";
const log = createLogger("silent");
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("OIDC bearer tokens", () => {
  let testDb: TestDatabase;
  let idp: http.Server;
  let issuer: string;
  let authenticator: Authenticator;
  const requests: string[] = [];
  let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
  let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
  let stranger: { privateKey: CryptoKey; publicKey: CryptoKey };
  let pss512: { privateKey: CryptoKey; publicKey: CryptoKey };

  const oidcConfig = (env: Record<string, string> = {}) =>
    parseConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", OIDC_ISSUER: issuer, OIDC_AUDIENCE: AUDIENCE, ...env });

  /** A token that passes every check unless `claims` or `options` say otherwise; `undefined` drops a claim. */
  const token = (claims: JWTPayload = {}, options: { key?: CryptoKey | Uint8Array; alg?: string; kid?: string } = {}) =>
    new SignJWT({ sub: "ada", name: "Ada Lovelace", iss: issuer, aud: AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + 300, plantgraph_role: "engineer", plantgraph_sites: ["acme/plant-1", "acme/plant-2"], ...claims })
      .setProtectedHeader({ alg: options.alg ?? "RS256", kid: options.kid ?? "rsa-1" })
      .sign(options.key ?? rsa.privateKey);

  beforeAll(async () => {
    testDb = await createTestDatabase("jwt");
    rsa = await generateKeyPair("RS256", { extractable: true });
    ec = await generateKeyPair("ES256", { extractable: true });
    stranger = await generateKeyPair("RS256");
    pss512 = await generateKeyPair("PS512", { extractable: true });
    const jwks = {
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
        { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
        // No "alg": jose alone would accept any RSA algorithm with it; only our allow-list refuses PS512.
        { ...(await exportJWK(pss512.publicKey)), kid: "rsa-any", use: "sig" },
      ],
    };
    idp = http.createServer((req, res) => {
      requests.push(req.url!);
      res.setHeader("content-type", "application/json");
      if (req.url === "/.well-known/openid-configuration") res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks.json` }));
      else if (req.url === "/jwks.json") res.end(JSON.stringify(jwks));
      else res.writeHead(404).end("{}");
    });
    await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    authenticator = createAuthenticator({ config: oidcConfig(), database: testDb.database, log });
  });

  afterAll(async () => {
    await new Promise((resolve) => idp?.close(resolve));
    await testDb?.drop();
  });

  const failureEvents = async (requestId: string) =>
    (await testDb.database.query<{ action: string; actor: string; outcome: string; detail: Record<string, unknown> }>(
      "select action, actor, outcome, detail from security_event where request_id = $1",
      [requestId],
    )).rows;

  it("accepts a valid RS256 token and maps role, sites and name; discovery and keys are fetched once", async () => {
    const identity = await authenticator.authenticate(`Bearer ${await token()}`, { requestId: randomUUID() });
    expect(identity).toEqual({ kind: "user", id: "user:ada", name: "Ada Lovelace", role: "engineer", scope: { all: false, sites: ["acme/plant-1", "acme/plant-2"] } });
    const again = await authenticator.authenticate(`Bearer ${await token({ sub: "bob", name: undefined, preferred_username: "bob.b", plantgraph_role: "viewer", plantgraph_sites: "*" })}`, { requestId: randomUUID() });
    expect(again).toEqual({ kind: "user", id: "user:bob", name: "bob.b", role: "viewer", scope: { all: true } });
    expect(requests.filter((url) => url === "/.well-known/openid-configuration")).toHaveLength(1);
    expect(requests.filter((url) => url === "/jwks.json")).toHaveLength(1);
  });

  it("accepts a valid ES256 token", async () => {
    const identity = await authenticator.authenticate(`Bearer ${await token({ plantgraph_role: "auditor" }, { key: ec.privateKey, alg: "ES256", kid: "ec-1" })}`, { requestId: randomUUID() });
    expect(identity.role).toBe("auditor");
  });

  it("accepts a token that expired within the configured clock skew (60 s)", async () => {
    const identity = await authenticator.authenticate(`Bearer ${await token({ exp: nowSeconds() - 30 })}`, { requestId: randomUUID() });
    expect(identity.id).toBe("user:ada");
  });

  it("uses OIDC_JWKS_URL when given, without discovery", async () => {
    const before = requests.length;
    const direct = createAuthenticator({ config: oidcConfig({ OIDC_JWKS_URL: `${issuer}/jwks.json` }), database: testDb.database, log });
    await direct.authenticate(`Bearer ${await token()}`, { requestId: randomUUID() });
    expect(requests.slice(before)).toEqual(["/jwks.json"]);
  });

  const refusals: [string, () => Promise<string>, string][] = [
    ["an expired token (beyond the skew)", () => token({ exp: nowSeconds() - 120 }), "expired"],
    ["a token not yet valid", () => token({ nbf: nowSeconds() + 300 }), "not_yet_valid"],
    ["a token for another audience", () => token({ aud: "someone-else" }), "invalid_claim:aud"],
    ["a token from another issuer", () => token({ iss: "https://evil.example.com" }), "invalid_claim:iss"],
    ["a token without exp", () => token({ exp: undefined }), "missing_claim:exp"],
    ["a token signed by a key not in the JWKS", () => token({}, { key: stranger.privateKey }), "bad_signature"],
    ["a token naming a key id the issuer does not publish", () => token({}, { key: stranger.privateKey, kid: "rsa-2" }), "unknown_signing_key"],
    [
      "a token whose payload was changed after signing",
      async () => {
        const [header, , signature] = (await token()).split(".");
        return `${header}.${b64({ sub: "ada", iss: issuer, aud: AUDIENCE, exp: nowSeconds() + 300, plantgraph_role: "admin", plantgraph_sites: "*" })}.${signature}`;
      },
      "bad_signature",
    ],
    [
      "an unsigned token (alg: none)",
      async () => `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "ada", iss: issuer, aud: AUDIENCE, exp: nowSeconds() + 300, plantgraph_role: "admin", plantgraph_sites: "*" })}.`,
      "algorithm_not_allowed",
    ],
    [
      "an HS256 token keyed with the issuer's public key",
      async () => token({ plantgraph_role: "admin" }, { key: new TextEncoder().encode(await exportSPKI(rsa.publicKey)), alg: "HS256" }),
      "algorithm_not_allowed",
    ],
    ["a PS512 token (a valid signature, but outside the allow-list)", () => token({}, { key: pss512.privateKey, alg: "PS512", kid: "rsa-any" }), "algorithm_not_allowed"],
    ["a token without the role claim", () => token({ plantgraph_role: undefined }), "missing_role"],
    ["a token with an unknown role", () => token({ plantgraph_role: "superuser" }), "unknown_role"],
    ["a token with a list of roles", () => token({ plantgraph_role: ["admin"] }), "unknown_role"],
    ["a token without the sites claim", () => token({ plantgraph_sites: undefined }), "missing_sites"],
    ["a token with malformed sites", () => token({ plantgraph_sites: ["acme"] }), "invalid_sites"],
  ];

  it.each(refusals)("refuses %s and records auth.failed without the token", async (_name, make, reason) => {
    const jwt = await make();
    const requestId = randomUUID();
    const refused = await authenticator.authenticate(`Bearer ${jwt}`, { requestId }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect((refused as Error).message).toMatch(/^bearer token refused: /);
    const events = await failureEvents(requestId);
    expect(events).toEqual([{ action: "auth.failed", actor: "anonymous", outcome: "failure", detail: { credential: "jwt", reason } }]);
    const stored = JSON.stringify(events);
    for (const part of jwt.split(".").filter((p) => p.length > 0)) expect(stored).not.toContain(part);
  });

  it("refuses bearer tokens when no OIDC issuer is configured", async () => {
    const withoutOidc = createAuthenticator({ config: parseConfig({ NODE_ENV: "test" }), database: testDb.database, log });
    const requestId = randomUUID();
    const refused = withoutOidc.authenticate(`Bearer ${await token()}`, { requestId });
    await expect(refused).rejects.toBeInstanceOf(AuthenticationError);
    await expect(refused).rejects.toThrow("bearer tokens are not accepted: no OIDC issuer configured");
    expect(await failureEvents(requestId)).toEqual([
      { action: "auth.failed", actor: "anonymous", outcome: "failure", detail: { credential: "jwt", reason: "oidc_not_configured" } },
    ]);
  });
});
