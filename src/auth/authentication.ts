import type { Identity } from "./identity.js";

/** Missing or unusable credentials. The message is safe to show to the caller; it never echoes a secret. */
export class AuthenticationError extends Error {
  /** `reason`: why, for the security event only; it may say more than the caller should hear. */
  constructor(
    message: string,
    readonly reason: string = message,
  ) {
    super(message);
    this.name = "AuthenticationError";
  }
}

/** Turns an Authorization header ("Bearer <token or API key>") into an identity, or refuses. */
export interface Authenticator {
  authenticate(authorization: string | undefined, meta: { requestId: string }): Promise<Identity>;
}
