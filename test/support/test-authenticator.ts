import { randomBytes } from "node:crypto";
import { AuthenticationError, type Authenticator } from "../../src/auth/authentication.js";
import { allSites, type AccessRole, type Identity } from "../../src/auth/identity.js";

/** An identity with a unique id per call, so rate-limit counters in a shared Redis never carry over between runs. */
export function testIdentity(role: AccessRole, name: string = role): Identity {
  return { kind: "api_key", id: `key:test-${name}-${randomBytes(4).toString("hex")}`, name, role, scope: allSites };
}

/** Accepts `Authorization: Bearer <token>` for the tokens given; refuses everything else like the real one. */
export function tokenAuthenticator(identities: Record<string, Identity>): Authenticator {
  return {
    async authenticate(authorization) {
      if (!authorization) throw new AuthenticationError("authentication required: send Authorization: Bearer <API key or token>", "missing");
      const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
      const identity = token === undefined ? undefined : identities[token];
      if (!identity) throw new AuthenticationError("invalid API key", "unknown");
      return identity;
    },
  };
}

export const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });
