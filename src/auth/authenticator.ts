import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { sha256Hex, verifyApiKey } from "./api-key.service.js";
import { AuthenticationError, type Authenticator } from "./authentication.js";
import type { Identity } from "./identity.js";
import { createJwtVerifier } from "./jwt.verifier.js";
import { recordSecurityEvent } from "./security-events.js";

export interface AuthenticatorOptions {
  config: Config;
  database: Database;
  log: Logger;
  /**
   * How long a verified API key is trusted without asking the database again. A revoked or expired
   * key keeps working on a replica for at most this long. 0 disables the cache.
   */
  apiKeyCacheTtlMs?: number;
}

type CredentialKind = "none" | "api_key" | "jwt" | "unknown";

const DEFAULT_API_KEY_CACHE_TTL_MS = 10_000;
const MAX_CACHED_KEYS = 10_000;
const BEARER = /^Bearer[ \t]+(\S+)\s*$/i;
const API_KEY_PREFIX = "pgk_";

/**
 * `Authorization: Bearer <token>`: an API key (`pgk_...`) or, when an OIDC issuer is configured, a
 * JWT. Every refusal is recorded as `auth.failed` with the credential kind and reason, never the
 * credential; errors that are not about the credential (issuer unreachable) are thrown as they are.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { config, database, log } = options;
  const jwt = config.oidc ? createJwtVerifier(config.oidc) : undefined;
  const apiKeys = identityCache(options.apiKeyCacheTtlMs ?? DEFAULT_API_KEY_CACHE_TTL_MS);

  const identify = async (kind: CredentialKind, credential: string | undefined): Promise<Identity> => {
    switch (kind) {
      case "none":
        throw new AuthenticationError("authentication required: send Authorization: Bearer <API key or token>", "missing");
      case "unknown":
        throw new AuthenticationError("unsupported credential: send Authorization: Bearer <API key or token>", "unsupported");
      case "jwt":
        if (!jwt) throw new AuthenticationError("bearer tokens are not accepted: no OIDC issuer configured", "oidc_not_configured");
        return jwt.verify(credential!);
      case "api_key":
        return apiKeys.get(credential!, () => verifyApiKey(database.db, credential!));
    }
  };

  return {
    async authenticate(authorization, { requestId }) {
      const { kind, credential } = credentialOf(authorization);
      try {
        return await identify(kind, credential);
      } catch (error) {
        const reason = error instanceof AuthenticationError ? error.reason : "check_failed";
        await recordSecurityEvent(database.db, {
          action: "auth.failed",
          actor: "anonymous",
          outcome: "failure",
          detail: { credential: kind, reason, ...publicPartOf(kind, credential) },
          requestId,
        }).catch((recordError: unknown) => log.error({ err: recordError, requestId }, "recording a failed authentication failed"));
        if (!(error instanceof AuthenticationError)) log.error({ err: error, requestId, credential: kind }, "could not check a credential");
        throw error;
      }
    },
  };
}

function credentialOf(authorization: string | undefined): { kind: CredentialKind; credential?: string } {
  if (authorization === undefined || authorization.trim() === "") return { kind: "none" };
  const credential = BEARER.exec(authorization)?.[1];
  if (credential === undefined) return { kind: "unknown" };
  if (credential.startsWith(API_KEY_PREFIX)) return { kind: "api_key", credential };
  if (credential.split(".").length === 3) return { kind: "jwt", credential };
  return { kind: "unknown" };
}

/** An API key's prefix is public (listed with the keys) and tells which key was tried. */
function publicPartOf(kind: CredentialKind, credential: string | undefined): { keyPrefix?: string } {
  const prefix = kind === "api_key" ? /^pgk_([a-z0-9]{8})_/.exec(credential!)?.[1] : undefined;
  return prefix ? { keyPrefix: prefix } : {};
}

/** Keyed by the SHA-256 of the presented key, so the memory holds no usable secret either. */
function identityCache(ttlMs: number) {
  const entries = new Map<string, { identity: Identity; until: number }>();
  return {
    async get(presented: string, verify: () => Promise<Identity>): Promise<Identity> {
      if (ttlMs <= 0) return verify();
      const hash = sha256Hex(presented);
      const now = Date.now();
      const hit = entries.get(hash);
      if (hit && hit.until > now) return hit.identity;
      entries.delete(hash);
      const identity = await verify();
      // Insertion order is age order: dropping the first entry drops the oldest.
      if (entries.size >= MAX_CACHED_KEYS) entries.delete(entries.keys().next().value!);
      entries.set(hash, { identity, until: now + ttlMs });
      return identity;
    },
  };
}
