import { GraphQLError, Kind, type GraphQLFormattedError } from "graphql";
import { publicMessage, type GraphqlLimits } from "../graphql/limits.js";
import type { Logger } from "../log/logger.js";

const INTERNAL = "INTERNAL_SERVER_ERROR";

/**
 * What a client sees of an error, on either transport. Unexpected errors (bugs, lost connections)
 * become "Internal server error" with a correlation id, and the log gets the original under the
 * same id. Errors meant for the client keep their message, minus schema hints when those are off:
 * those with a code other than INTERNAL_SERVER_ERROR, and graphql-js's own validation and coercion
 * errors, which wrap no thrown error. graphql-js's refusals of variable values are BAD_USER_INPUT on
 * both transports (Apollo recognises most of them over HTTP, but not the error limit; graphql-ws none).
 */
export function publicError(
  formatted: GraphQLFormattedError,
  error: unknown,
  { requestId, limits, log }: { requestId: string; limits: GraphqlLimits; log: Logger },
): GraphQLFormattedError {
  const code = isVariableError(error) ? "BAD_USER_INPUT" : formatted.extensions?.code;
  const unexpected =
    code !== undefined ? code === INTERNAL : !(error instanceof GraphQLError) || error.originalError != null;
  if (!unexpected) {
    return {
      ...formatted,
      message: publicMessage(limits, withoutVariableValue(formatted.message, error)),
      ...(code !== undefined ? { extensions: { ...formatted.extensions, code } } : {}),
    };
  }
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

const VARIABLE_ERROR_LIMIT = "Too many errors processing variables, error limit reached. Execution aborted.";

/** graphql-js's refusals of a variable's value, recognised by their shape as Apollo does. */
function isVariableError(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  if (error.message === VARIABLE_ERROR_LIMIT && error.originalError == null) return true;
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return false;
  const variable = `Variable "$${node.variable.name.value}"`;
  return [" has invalid value", " got invalid value ", " of required type ", " of non-null type "].some((rest) =>
    error.message.startsWith(variable + rest),
  );
}
