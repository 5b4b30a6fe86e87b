import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Config } from "../config.js";
import { createContext, type GraphqlContext, type GraphqlDeps } from "../graphql/context.js";
import { buildGraphqlSchema } from "../graphql/schema.js";
import type { Logger } from "../log/logger.js";

export interface HealthCheck {
  ok: boolean;
  detail?: string;
}
/** One entry per dependency, e.g. `{ database: { ok: true }, mqtt: { ok: false, detail: "reconnecting" } }`. */
export type HealthReport = Record<string, HealthCheck>;

export interface HttpServerOptions {
  config: Config;
  deps: GraphqlDeps;
  health: () => Promise<HealthReport>;
  log: Logger;
}

export interface HttpServer {
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to 10 s), closes WebSockets. */
  close(): Promise<void>;
}

const GRAPHQL_PATH = "/graphql";
const BODY_LIMIT = "1mb";
const INTERNAL = "INTERNAL_SERVER_ERROR";

/**
 * Apollo's formatError receives no context, so the request id reaches it through the async
 * scope of the request instead.
 */
const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { config, deps } = options;
  const log = options.log.child({ component: "http" });
  const schema = await buildGraphqlSchema();

  const app = express();
  app.disable("x-powered-by");
  const httpServer = http.createServer(app);

  // Attached once listening: ws re-emits the HTTP server's errors (EADDRINUSE) as its own.
  let webSockets: { dispose(): void | Promise<void> } | undefined;
  const disposeWebSockets: ApolloServerPlugin<GraphqlContext> = {
    async serverWillStart() {
      return {
        async drainServer() {
          await webSockets?.dispose();
        },
      };
    },
  };
  const apollo = new ApolloServer<GraphqlContext>({
    schema,
    introspection: config.env !== "production",
    includeStacktraceInErrorResponses: false,
    // The hub owns shutdown order; Apollo's own handlers would stop it early and re-raise the signal.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) =>
      maskUnexpected(formatted, error, requestScope.getStore()?.requestId ?? randomUUID(), log),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), disposeWebSockets],
  });
  await apollo.start();

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const checks = await options.health().catch(
      (error: unknown): HealthReport => ({ health: { ok: false, detail: (error as Error).message } }),
    );
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not_ready", checks });
  });
  app.use(
    GRAPHQL_PATH,
    express.json({ limit: BODY_LIMIT }),
    // After the body parser: its stream callbacks would run outside the request's async scope.
    (req, res, next) => {
      const requestId = requestIdFrom(req.headers);
      res.setHeader("x-request-id", requestId);
      res.locals.requestId = requestId;
      requestScope.run({ requestId }, next);
    },
    expressMiddleware(apollo, {
      context: async ({ res }) => createContext(deps, res.locals.requestId as string),
    }),
  );

  try {
    await listen(httpServer, config.http.port, config.http.host);
  } catch (error) {
    await apollo.stop().catch(() => {});
    throw error;
  }
  webSockets = serveGraphqlOverWebSocket(httpServer, schema, deps, log);

  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${browsableHost(config.http.host)}:${port}${GRAPHQL_PATH}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () => (closing ??= apollo.stop()),
  };
}

/** graphql-ws on the HTTP server's port and path; one context per operation, like one per HTTP request. */
function serveGraphqlOverWebSocket(
  httpServer: http.Server,
  schema: GraphQLSchema,
  deps: GraphqlDeps,
  log: Logger,
): { dispose(): void | Promise<void> } {
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  return useServer(
    {
      schema,
      context: (ctx) => createContext(deps, requestIdFrom(ctx.extra.request.headers)),
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return;
        const { requestId } = args.contextValue as GraphqlContext;
        return { ...result, errors: result.errors.map((e) => maskUnexpected(e.toJSON(), e, requestId, log)) };
      },
    },
    wsServer,
  );
}

/**
 * Unexpected errors (bugs, lost connections) reach the client as "Internal server error" with a
 * correlation id, and the log gets the original under the same id. Errors meant for the client
 * keep their message: those with a code other than INTERNAL_SERVER_ERROR, and graphql-js's own
 * validation and coercion errors, which wrap no thrown error.
 */
function maskUnexpected(
  formatted: GraphQLFormattedError,
  error: unknown,
  requestId: string,
  log: Logger,
): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const unexpected =
    code !== undefined ? code === INTERNAL : !(error instanceof GraphQLError) || error.originalError != null;
  if (!unexpected) return formatted;
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  log.error({ err: original, correlationId: requestId, path: formatted.path }, "unexpected error in a GraphQL operation");
  return {
    message: "Internal server error",
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: INTERNAL, correlationId: requestId },
  };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's x-request-id when it looks like an id (it ends up in logs), else a fresh one. */
function requestIdFrom(headers: http.IncomingHttpHeaders): string {
  const given = headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Where a browser on this machine can reach a server bound to `host`. */
function browsableHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}
