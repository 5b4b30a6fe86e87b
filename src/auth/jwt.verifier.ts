import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import type { Config } from "../config.js";
import { AuthenticationError } from "./authentication.js";
import { accessRoles, allSites, type AccessRole, type Identity, type SiteScope } from "./identity.js";

export type OidcSettings = NonNullable<Config["oidc"]>;

export interface JwtVerifier {
  /** The identity a valid token carries; AuthenticationError when the token is refused. */
  verify(token: string): Promise<Identity>;
}

/**
 * Asymmetric algorithms only: `none` and the HS* family (where a public key could be replayed as
 * the HMAC secret) never reach signature checking.
 */
export const allowedJwtAlgorithms = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"];

const SITE_PATH = /^[^/\s]+\/[^/\s]+$/;

export function createJwtVerifier(oidc: OidcSettings): JwtVerifier {
  const keys = lazyKeySet(oidc);
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, await keys(), {
          issuer: oidc.issuer,
          audience: oidc.audience,
          algorithms: allowedJwtAlgorithms,
          clockTolerance: oidc.clockSkewSeconds,
          requiredClaims: ["exp", "sub"],
        }));
      } catch (error) {
        throw refusal(error) ?? error;
      }
      return identityOf(payload, oidc);
    },
  };
}

/**
 * The issuer's key set, created on first use: an explicit JWKS URL, else the `jwks_uri` of the
 * issuer's discovery document. A failed discovery is not cached, so the next request retries.
 */
function lazyKeySet(oidc: OidcSettings): () => Promise<ReturnType<typeof createRemoteJWKSet>> {
  let keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  return () => {
    if (!keySet) {
      keySet = (async () => createRemoteJWKSet(new URL(oidc.jwksUrl ?? (await discoverJwksUri(oidc.issuer)))))();
      keySet.catch(() => (keySet = undefined));
    }
    return keySet;
  };
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`OIDC discovery at ${url} answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery 1.0 §4.3: a document naming another issuer must not be used.
  if (document.issuer !== issuer) throw new Error(`OIDC discovery at ${url} names issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
  if (typeof document.jwks_uri !== "string") throw new Error(`OIDC discovery at ${url} has no jwks_uri`);
  return document.jwks_uri;
}

/** A jose error about the token itself becomes a refusal; anything else (issuer unreachable) stays an error. */
function refusal(error: unknown): AuthenticationError | undefined {
  const refuse = (message: string, reason: string) => new AuthenticationError(`bearer token refused: ${message}`, reason);
  if (error instanceof errors.JWTExpired) return refuse("expired", "expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return refuse("not yet valid", "not_yet_valid");
    if (error.reason === "missing") return refuse(`no "${error.claim}" claim`, `missing_claim:${error.claim}`);
    return refuse(`unexpected "${error.claim}" claim`, `invalid_claim:${error.claim}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return refuse("signature does not verify", "bad_signature");
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return refuse(`algorithm not allowed (expected one of ${allowedJwtAlgorithms.join(", ")})`, "algorithm_not_allowed");
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return refuse("signed by a key the issuer does not publish", "unknown_signing_key");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return refuse("malformed", "malformed");
  return undefined;
}

function identityOf(payload: JWTPayload, oidc: OidcSettings): Identity {
  const sub = payload.sub!;
  const nameClaim = [payload.name, payload.preferred_username].find((v): v is string => typeof v === "string" && v !== "");
  return { kind: "user", id: `user:${sub}`, name: nameClaim ?? sub, role: roleOf(payload, oidc.roleClaim), scope: scopeOf(payload, oidc.sitesClaim) };
}

function roleOf(payload: JWTPayload, claim: string): AccessRole {
  const value = payload[claim];
  if (value === undefined) throw new AuthenticationError(`bearer token refused: no "${claim}" claim naming a role`, "missing_role");
  if (typeof value !== "string" || !(accessRoles as readonly string[]).includes(value)) {
    throw new AuthenticationError(`bearer token refused: "${claim}" must be one of ${accessRoles.join(", ")}`, "unknown_role");
  }
  return value as AccessRole;
}

/** `"*"` (or `["*"]`) is every site; otherwise a list of "enterprise/site" paths. */
function scopeOf(payload: JWTPayload, claim: string): SiteScope {
  const value = payload[claim];
  if (value === undefined) throw new AuthenticationError(`bearer token refused: no "${claim}" claim listing sites`, "missing_sites");
  if (value === "*" || (Array.isArray(value) && value.length === 1 && value[0] === "*")) return allSites;
  if (!Array.isArray(value) || !value.every((site) => typeof site === "string" && SITE_PATH.test(site))) {
    throw new AuthenticationError(`bearer token refused: "${claim}" must be "*" or a list of "enterprise/site" paths`, "invalid_sites");
  }
  return { all: false, sites: [...new Set(value as string[])] };
}
