import { GraphQLError } from "graphql";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { AuthenticationError, type Authenticator } from "../auth/authentication.js";
import { systemIdentity, type Identity } from "../auth/identity.js";
import { recordSecurityEvent } from "../auth/security-events.js";
import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { createOperationRateLimiter } from "./rate-limit.js";

export const UNAUTHENTICATED = "UNAUTHENTICATED";
export const RATE_LIMITED = "RATE_LIMITED";
export const FAILED_SIGN_INS_PER_MINUTE = 20;

/**
 * Who may run GraphQL operations and how often, the same for HTTP requests and WebSocket
 * operations. Refusals are GraphQLErrors with the codes above; each transport decides how to
 * deliver them (HTTP status, WebSocket close or error message).
 */
export interface AccessGuard {
  /**
   * The caller's identity, or a GraphQLError UNAUTHENTICATED carrying the authenticator's safe
   * message; RATE_LIMITED once `client` (its address) failed too often this minute.
   */
  authenticate(authorization: string | undefined, requestId: string, client: string): Promise<Identity>;
  /** Counts one operation for the identity, or throws a GraphQLError RATE_LIMITED with `retryAfterSeconds`. */
  admit(identity: Identity, requestId: string): Promise<void>;
  close(): Promise<void>;
}

/** Benchmark baseline only: everyone is the hub itself and nothing is counted. Never reachable from the environment. */
export const openAccess: AccessGuard = {
  authenticate: async () => systemIdentity,
  admit: async () => {},
  close: async () => {},
};

export async function createAccessGuard(options: {
  config: Pick<Config, "redisUrl" | "graphqlLimits">;
  authenticator: Authenticator;
  database: Database;
  log: Logger;
}): Promise<AccessGuard> {
  const { config, authenticator, database, log } = options;
  const perMinute = config.graphqlLimits.ratePerMinute;
  const limiter = await createOperationRateLimiter({ perMinute, redisUrl: config.redisUrl, log });
  // A client hammering past its limit would otherwise write a security event per request.
  const eventsPerIdentity = new RateLimiterMemory({ points: 1, duration: 60 });
  // Failed sign-ins per client address: beyond this, attempts are refused before they reach the
  // authenticator, so guessing costs the guesser and a flood writes no more auth.failed rows.
  const failedSignIns = new RateLimiterMemory({ points: FAILED_SIGN_INS_PER_MINUTE, duration: 60 });

  const recordExceeded = async (identity: Identity, retryAfterSeconds: number, requestId: string) => {
    const first = await eventsPerIdentity.consume(identity.id).then(
      () => true,
      () => false,
    );
    if (!first) return;
    await recordSecurityEvent(database.db, {
      action: "rate_limit.exceeded",
      actor: identity.id,
      outcome: "denied",
      detail: { limitPerMinute: perMinute, retryAfterSeconds },
      requestId,
    }).catch((error: unknown) => log.error({ err: error, requestId }, "recording an exceeded rate limit failed"));
  };

  return {
    async authenticate(authorization, requestId, client) {
      const failures = await failedSignIns.get(client);
      if (failures && failures.consumedPoints >= FAILED_SIGN_INS_PER_MINUTE) {
        const retryAfterSeconds = Math.ceil(failures.msBeforeNext / 1000);
        throw new GraphQLError(`too many failed sign-ins from this address; retry in ${retryAfterSeconds} s`, {
          extensions: { code: RATE_LIMITED, retryAfterSeconds },
        });
      }
      try {
        return await authenticator.authenticate(authorization, { requestId });
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        await failedSignIns.consume(client).catch(() => {});
        throw new GraphQLError(error.message, { extensions: { code: UNAUTHENTICATED } });
      }
    },
    async admit(identity, requestId) {
      const retryAfterSeconds = await limiter.consume(identity.id);
      if (retryAfterSeconds === undefined) return;
      await recordExceeded(identity, retryAfterSeconds, requestId);
      throw new GraphQLError(`rate limit exceeded: at most ${perMinute} operations a minute; retry in ${retryAfterSeconds} s`, {
        extensions: { code: RATE_LIMITED, retryAfterSeconds },
      });
    },
    close: () => limiter.close(),
  };
}
