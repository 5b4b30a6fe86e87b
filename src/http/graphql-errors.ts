import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { publicMessage, type GraphqlLimits } from "../graphql/limits.js";
import type { Logger } from "../log/logger.js";

const INTERNAL = "INTERNAL_SERVER_ERROR";

/**
 * What a client sees of an error, on either transport. Unexpected errors (bugs, lost connections)
 * become "Internal server error" with a correlation id, and the log gets the original under the
 * same id. Errors meant for the client keep their message, minus schema hints when those are off:
 * those with a code other than INTERNAL_SERVER_ERROR, and graphql-js's own validation and coercion
 * errors, which wrap no thrown error.
 */
export function publicError(
  formatted: GraphQLFormattedError,
  error: unknown,
  { requestId, limits, log }: { requestId: string; limits: GraphqlLimits; log: Logger },
): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const unexpected =
    code !== undefined ? code === INTERNAL : !(error instanceof GraphQLError) || error.originalError != null;
  if (!unexpected) return { ...formatted, message: publicMessage(limits, withoutVariableValue(formatted.message, error)) };
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  log.error({ err: original, correlationId: requestId, path: formatted.path }, "unexpected error in a GraphQL operation");
  return {
    message: "Internal server error",
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: INTERNAL, correlationId: requestId },
  };
}

const VARIABLE_VALUE = /^Variable "\$[^"]+" got invalid value /;

/**
 * graphql-js quotes the whole value of a variable it cannot coerce ("got invalid value { secrets:
 * {...} }"), so a mistyped mutation would echo its credentials. Keep the verdict, drop the value.
 */
function withoutVariableValue(message: string, error: unknown): string {
  const inner = error instanceof GraphQLError ? error.originalError : undefined;
  const prefix = VARIABLE_VALUE.exec(message)?.[0];
  return prefix && inner ? `${prefix.trimEnd()}; ${inner.message}` : message;
}
