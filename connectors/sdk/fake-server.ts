import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { RecordedRequest, ToolFake } from "./fake.types.js";

/**
 * The plumbing every tool fake shares: a real `node:http` server on 127.0.0.1 (port 0), a route
 * table (`"GET /rest/api/3/issue/:id"`), JSON body parsing, request recording and `failNext`.
 * A fake supplies only what its tool does: routes, auth check, error body shape, `moveTask`.
 */

export interface FakeResponse {
  /** Default 200. */
  readonly status?: number;
  /** Objects are sent as JSON; strings as text; undefined sends an empty body. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FakeRequest extends RecordedRequest {
  /** Path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Route parameters (`:id`), decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly rawBody: Buffer;
  /** The fake's own base URL, for `self` links. */
  readonly baseUrl: string;
}

export type FakeHandler = (request: FakeRequest) => FakeResponse | Promise<FakeResponse>;

export interface FakeServerOptions {
  /** Keys are `"<METHOD> <path pattern>"`, e.g. `"POST /api/sections/:sectionId/tasks"`. */
  readonly routes: Readonly<Record<string, FakeHandler>>;
  /** Runs before routing; a response here (e.g. 401) answers the request. */
  readonly authorize?: (request: FakeRequest) => FakeResponse | undefined;
  /** The tool's error body for a status (used by `failNext` without a body and for unknown routes). */
  readonly errorBody?: (status: number, message: string) => unknown;
  readonly moveTask?: ToolFake["moveTask"];
  /** Called with each request as it is recorded (its body read), e.g. to time its arrival. */
  readonly onRequest?: (request: RecordedRequest) => void;
}

export interface FakeServer extends ToolFake {
  /** Requests recorded since `mark` was taken: `fake.requests.slice(mark)`. */
  readonly mark: () => number;
}

interface CompiledRoute {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: string[];
  readonly handler: FakeHandler;
}

function compile(key: string, handler: FakeHandler): CompiledRoute {
  const [method, path] = key.split(" ", 2);
  if (!method || !path) throw new Error(`fake route "${key}" must be "<METHOD> <path>"`);
  const names: string[] = [];
  const source = path
    .split("/")
    .map((segment) => {
      if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(segment.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { method: method.toUpperCase(), pattern: new RegExp(`^${source}/?$`), names, handler };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function lowerHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function send(res: ServerResponse, answer: FakeResponse): void {
  const status = answer.status ?? 200;
  const headers: Record<string, string> = { ...answer.headers };
  let payload = "";
  if (typeof answer.body === "string") {
    payload = answer.body;
    headers["content-type"] ??= "text/plain; charset=utf-8";
  } else if (answer.body !== undefined) {
    payload = JSON.stringify(answer.body);
    headers["content-type"] ??= "application/json; charset=utf-8";
  }
  res.writeHead(status, headers);
  res.end(payload);
}

const defaultErrorBody = (_status: number, message: string): unknown => ({ error: { message } });

export async function startFakeServer(options: FakeServerOptions): Promise<FakeServer> {
  const routes = Object.entries(options.routes).map(([key, handler]) => compile(key, handler));
  const errorBody = options.errorBody ?? defaultErrorBody;
  const requests: RecordedRequest[] = [];
  const failures: { status: number; headers?: Record<string, string>; body?: unknown; remaining: number }[] = [];
  let baseUrl = "";

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? "/", baseUrl);
    const recorded: RecordedRequest = {
      method: (req.method ?? "GET").toUpperCase(),
      url: `${url.pathname}${url.search}`,
      headers: lowerHeaders(req),
      body: parseJson(rawBody),
    };
    requests.push(recorded);
    options.onRequest?.(recorded);

    const failure = failures[0];
    if (failure) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) failures.shift();
      send(res, {
        status: failure.status,
        headers: failure.headers,
        body: failure.body === undefined ? errorBody(failure.status, `injected failure ${failure.status}`) : failure.body,
      });
      return;
    }

    let params: Record<string, string> = {};
    const route = routes.find((candidate) => {
      if (candidate.method !== recorded.method) return false;
      const match = candidate.pattern.exec(url.pathname);
      if (!match) return false;
      params = Object.fromEntries(candidate.names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? "")]));
      return true;
    });
    const request: FakeRequest = { ...recorded, path: url.pathname, query: url.searchParams, params, rawBody, baseUrl };
    const denied = options.authorize?.(request);
    if (denied) return send(res, denied);
    if (!route) return send(res, { status: 404, body: errorBody(404, `no route for ${recorded.method} ${url.pathname}`) });
    send(res, await route.handler(request));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, { status: 500, body: errorBody(500, `fake crashed: ${error instanceof Error ? error.message : String(error)}`) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    requests,
    mark: () => requests.length,
    failNext(status, { times = 1, headers, body } = {}) {
      failures.push({ status, headers, body, remaining: times });
    },
    ...(options.moveTask ? { moveTask: options.moveTask } : {}),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A JSON error answer in the shape `errorBody` gives, for handlers (`return fail(400, "...")`). */
export type FakeFail = (status: number, message: string) => FakeResponse;

export function failWith(errorBody: (status: number, message: string) => unknown): FakeFail {
  return (status, message) => ({ status, body: errorBody(status, message) });
}
