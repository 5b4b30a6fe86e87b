import type http from "node:http";
import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
} from "graphql";
import type { Disposable } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Identity } from "../auth/identity.js";
import { createContext, type GraphqlDeps } from "../graphql/context.js";
import { refuseNulInVariables, type GraphqlLimits } from "../graphql/limits.js";
import type { Logger } from "../log/logger.js";
import { RATE_LIMITED, UNAUTHENTICATED, type AccessGuard } from "./access-guard.js";
import { publicError } from "./graphql-errors.js";
import { requestIdFrom } from "./request-id.js";

export interface WebSocketOptions {
  httpServer: http.Server;
  path: string;
  schema: GraphQLSchema;
  deps: GraphqlDeps;
  guard: AccessGuard;
  limits: GraphqlLimits;
  /** Largest message accepted, in bytes: the same budget as an HTTP body. */
  maxPayload: number;
  log: Logger;
}

/** Set in onConnect; graphql-ws runs no operation before onConnect accepted the connection. */
type Connection = {
  requestId: string;
  identity: Identity;
};

/** A client has this long to send connection_init before it is closed with 4408. */
const CONNECTION_INIT_WAIT_MS = 3_000;

/**
 * graphql-ws on the HTTP server's port and path. The connection authenticates once, with
 * `authorization` in connection_init's payload (a refusal closes with 4403); every operation then
 * passes the same rate limit, token limit and validation rules as an HTTP request.
 */
export function serveGraphqlOverWebSocket(options: WebSocketOptions): Disposable {
  const { schema, deps, guard, limits, log } = options;
  const rules = [...specifiedRules, ...limits.validationRules];
  const wsServer = new WebSocketServer({ server: options.httpServer, path: options.path, maxPayload: options.maxPayload });
  const format = (errors: readonly GraphQLError[], requestId: string) =>
    errors.map((error) => publicError(error.toJSON(), error, { requestId, limits, log }));

  return useServer<Record<string, unknown>, Connection>(
    {
      connectionInitWaitTimeout: CONNECTION_INIT_WAIT_MS,
      onConnect: async (ctx) => {
        const requestId = requestIdFrom(ctx.extra.request.headers);
        const given = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        try {
          const client = ctx.extra.request.socket.remoteAddress ?? "unknown";
          ctx.extra.identity = await guard.authenticate(typeof given === "string" ? given : undefined, requestId, client);
        } catch (error) {
          const code = error instanceof GraphQLError ? error.extensions.code : undefined;
          if (code === UNAUTHENTICATED || code === RATE_LIMITED) return false;
          throw error;
        }
        ctx.extra.requestId = requestId;
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { identity, requestId } = ctx.extra as Connection;
        try {
          await guard.admit(identity, requestId);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const nul = refuseNulInVariables(payload.variables);
        if (nul) return [nul];
        let document: DocumentNode;
        try {
          document = parse(payload.query, limits.parseOptions);
        } catch (error) {
          if (error instanceof GraphQLError) return [withCode(error, "GRAPHQL_PARSE_FAILED")];
          throw error;
        }
        const invalid = validate(schema, document, rules);
        if (invalid.length > 0) return invalid.map((error) => withCode(error, "GRAPHQL_VALIDATION_FAILED"));
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: createContext(deps, requestId, identity),
        };
      },
      onNext: (ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: format(result.errors, ctx.extra.requestId!) } : undefined,
      onError: (ctx, _id, _payload, errors) => format(errors, ctx.extra.requestId!),
    },
    wsServer,
  );
}

/** The codes Apollo gives the same failures over HTTP, so clients can handle both alike. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}
