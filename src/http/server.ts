import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type ErrorRequestHandler } from "express";
import { GraphQLError } from "graphql";
import type { Disposable } from "graphql-ws";
import type { Config } from "../config.js";
import { createContext, type GraphqlContext, type GraphqlDeps } from "../graphql/context.js";
import { graphqlLimits, refuseNulInVariables, type GraphqlLimits } from "../graphql/limits.js";
import { buildGraphqlSchema } from "../graphql/schema.js";
import type { Logger } from "../log/logger.js";
import { createListener } from "../tls/http-listener.js";
import { readHttpsCredentials } from "../tls/tls-files.js";
import { createAccessGuard, openAccess, RATE_LIMITED, UNAUTHENTICATED } from "./access-guard.js";
import { publicError } from "./graphql-errors.js";
import { requestIdFrom } from "./request-id.js";
import { serveGraphqlOverWebSocket } from "./websocket.server.js";
import { webhookRouter } from "./webhooks.js";
import { secretBoxFor } from "../secrets/secret-box.js";

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
  /**
   * "off": every caller is the hub's own admin identity, and no query limit or rate limit applies.
   * Only the benchmark's baseline uses it; it is deliberately not a setting. Default "on".
   */
  security?: "on" | "off";
}

export interface HttpServer {
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to 10 s), closes WebSockets and the rate limiter. */
  close(): Promise<void>;
}

const GRAPHQL_PATH = "/graphql";
const BODY_LIMIT_BYTES = 1024 * 1024;

/** How the guard's refusals travel over HTTP. */
const HTTP_STATUS: Record<string, number> = { [UNAUTHENTICATED]: 401, [RATE_LIMITED]: 429 };

/**
 * Apollo's formatError receives no context, so the request id reaches it through the async
 * scope of the request instead.
 */
const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { config, deps } = options;
  const secured = (options.security ?? "on") === "on";
  const log = options.log.child({ component: "http" });
  const schema = await buildGraphqlSchema();
  const limits = graphqlLimits(config, { enforce: secured });
  const guard = secured
    ? await createAccessGuard({ config, authenticator: deps.authenticator, database: deps.database, log })
    : openAccess;

  const app = express();
  app.disable("x-powered-by");
  const httpServer = createListener(app, await readHttpsCredentials(config));

  // Attached once listening: ws re-emits the HTTP server's errors (EADDRINUSE) as its own.
  let webSockets: Disposable | undefined;
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
    // Refused in production by limits.validationRules: the same rule on both transports.
    introspection: true,
    parseOptions: limits.parseOptions,
    validationRules: [...limits.validationRules],
    includeStacktraceInErrorResponses: false,
    // The hub owns shutdown order; Apollo's own handlers would stop it early and re-raise the signal.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) =>
      publicError(formatted, error, { requestId: requestScope.getStore()?.requestId ?? randomUUID(), limits, log }),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), disposeWebSockets, refuseNulVariables],
  });
  try {
    await apollo.start();
  } catch (error) {
    await guard.close();
    throw error;
  }

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
  app.use(webhookRouter({ database: deps.database, box: secretBoxFor(config), queues: deps.queues, log }));
  app.use(
    GRAPHQL_PATH,
    express.json({ limit: BODY_LIMIT_BYTES }),
    // After the body parser: its stream callbacks would run outside the request's async scope.
    (req, res, next) => {
      const requestId = requestIdFrom(req.headers);
      res.setHeader("x-request-id", requestId);
      res.locals.requestId = requestId;
      requestScope.run({ requestId }, next);
    },
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = res.locals.requestId as string;
        const identity = await guard.authenticate(req.headers.authorization, requestId, req.socket.remoteAddress ?? "unknown").catch(overHttp);
        await guard.admit(identity, requestId).catch(overHttp);
        return createContext(deps, requestId, identity);
      },
    }),
  );
  app.use(GRAPHQL_PATH, bodyErrors(limits, log));

  try {
    await listen(httpServer, config.http.port, config.http.host);
  } catch (error) {
    await apollo.stop().catch(() => {});
    await guard.close();
    throw error;
  }
  webSockets = serveGraphqlOverWebSocket({
    httpServer,
    path: GRAPHQL_PATH,
    schema,
    deps,
    guard,
    limits,
    maxPayload: BODY_LIMIT_BYTES,
    log,
  });

  const port = (httpServer.address() as AddressInfo).port;
  const url = `${config.tls.https ? "https" : "http"}://${browsableHost(config.http.host)}:${port}${GRAPHQL_PATH}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () => (closing ??= apollo.stop().finally(() => guard.close())),
  };
}

/** Variables are checked once the operation is known, where Apollo answers a thrown error with its status. */
const refuseNulVariables: ApolloServerPlugin<GraphqlContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ request }) {
        const refusal = refuseNulInVariables(request.variables);
        if (refusal) throw new GraphQLError(refusal.message, { extensions: { ...refusal.extensions, http: { status: 400 } } });
      },
    };
  },
};

/** Rethrows a refusal of the access guard with its HTTP status (and the headers that go with it). */
function overHttp(error: unknown): never {
  const status = error instanceof GraphQLError ? HTTP_STATUS[String(error.extensions.code)] : undefined;
  if (!(error instanceof GraphQLError) || status === undefined) throw error;
  const headers = new HeaderMap();
  if (status === 401) headers.set("www-authenticate", 'Bearer realm="plantgraph"');
  const retryAfter = error.extensions.retryAfterSeconds;
  if (typeof retryAfter === "number") headers.set("retry-after", String(retryAfter));
  throw new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status, headers } } });
}

/**
 * Bodies the JSON parser refused (too large, not JSON) get a GraphQL-shaped answer with the
 * parser's status, instead of Express's HTML page; anything else is masked like a resolver bug.
 */
function bodyErrors(limits: GraphqlLimits, log: Logger): ErrorRequestHandler {
  return (error: { status?: unknown; type?: unknown; message?: unknown }, req, res, _next) => {
    const requestId = (res.locals.requestId as string | undefined) ?? requestIdFrom(req.headers);
    res.setHeader("x-request-id", requestId);
    const status = typeof error.status === "number" && error.status >= 400 && error.status < 500 ? error.status : undefined;
    if (status === undefined) {
      const formatted = publicError({ message: String(error.message), extensions: { code: "INTERNAL_SERVER_ERROR" } }, error, { requestId, limits, log });
      res.status(500).json({ errors: [formatted] });
      return;
    }
    const message = error.type === "entity.too.large" ? `request body larger than ${BODY_LIMIT_BYTES} bytes` : String(error.message);
    const code = status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST";
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  };
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
