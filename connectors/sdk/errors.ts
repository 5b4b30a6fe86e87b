/**
 * Errors typed by kind at the connector edge. The job handler maps kinds to queue semantics:
 * auth, not_found and rejected are final (dead letter, no retry); rate_limited pauses the queue
 * for `retryAfterMs`; transient retries with exponential backoff.
 */
export const connectorErrorKinds = ["auth", "not_found", "rejected", "rate_limited", "transient"] as const;
export type ConnectorErrorKind = (typeof connectorErrorKinds)[number];

export class ConnectorError extends Error {
  override readonly name = "ConnectorError";
  constructor(
    readonly kind: ConnectorErrorKind,
    message: string,
    readonly details: { readonly status?: number; readonly retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}

export const isConnectorError = (error: unknown): error is ConnectorError => error instanceof ConnectorError;

/** The kind an HTTP status maps to, or undefined for a success. */
export function kindOfStatus(status: number): ConnectorErrorKind | undefined {
  if (status < 400) return undefined;
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status === 408 || status >= 500) return "transient";
  return "rejected";
}
