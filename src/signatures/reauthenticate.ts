import { decodeJwt } from "jose";
import { AuthenticationError, type Authenticator } from "../auth/authentication.js";
import type { Identity } from "../auth/identity.js";
import { recordSecurityEvent } from "../auth/security-events.js";
import type { DbOrTx } from "../db/database.js";

/**
 * A signature needs its signer to authenticate again (21 CFR 11.200): the credential is presented
 * once more with the signing request and must be the caller's own. An OIDC token must also be
 * fresh: issued (or its `auth_time`) within `maxAgeSeconds`, so a token left in a browser tab
 * cannot sign. An API key is its holder's only secret, so presenting it again is the check.
 */
export async function reauthenticate(
  deps: { authenticator: Authenticator; db: DbOrTx },
  caller: Identity,
  credential: string,
  options: { requestId: string; maxAgeSeconds: number; now?: Date },
): Promise<string | undefined> {
  let again: Identity;
  try {
    again = await deps.authenticator.authenticate(`Bearer ${credential}`, { requestId: options.requestId });
  } catch (error) {
    if (error instanceof AuthenticationError) return `re-authentication failed: ${error.message}`;
    throw error;
  }
  const refuse = async (message: string, reason: string) => {
    await recordSecurityEvent(deps.db, { action: "auth.failed", actor: caller.id, outcome: "failure", resource: "signature", detail: { reason }, requestId: options.requestId });
    return message;
  };
  if (again.id !== caller.id) return refuse("re-authentication failed: the credential is not yours", "signer_mismatch");
  if (again.kind === "user") {
    const claims = decodeJwt(credential);
    const authenticatedAt = typeof claims.auth_time === "number" ? claims.auth_time : claims.iat;
    const now = (options.now ?? new Date()).getTime() / 1000;
    if (authenticatedAt === undefined || now - authenticatedAt > options.maxAgeSeconds) {
      return refuse(`re-authentication failed: sign in again; a signature needs a token from the last ${options.maxAgeSeconds} seconds`, "stale_token");
    }
  }
  return undefined;
}
