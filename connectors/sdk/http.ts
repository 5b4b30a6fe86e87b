import { ConnectorError, kindOfStatus } from "./errors.js";
import type { ConnectorContext } from "./types.js";

/**
 * The one way a connector talks HTTP: `ctx.fetch` with the job's abort signal and a timeout, JSON
 * in and out, and every failure turned into a `ConnectorError` of the right kind. Error messages
 * carry the tool's own error text but never a request header value (tokens, API keys).
 */

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type QueryValue = string | number | boolean | undefined;

export interface HttpRequest {
  readonly method: HttpMethod;
  readonly url: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON with `Content-Type: application/json`. */
  readonly json?: unknown;
  /** Appended to the URL's query; undefined values are left out. */
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Default 15 s. */
  readonly timeoutMs?: number;
  /**
   * The URL itself is a secret (Slack, Teams and generic webhook URLs): messages name only the
   * method and host, never the path or query.
   */
  readonly secretUrl?: boolean;
}

export interface HttpResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON; the raw text when the body is not JSON; undefined when empty. */
  readonly body: T;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_TOOL_TEXT = 500;

export function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`, "utf8").toString("base64")}`;
}

export function bearerAuth(token: string): string {
  return `Bearer ${token}`;
}

/** `url` with `query` appended (undefined values dropped). */
export function withQuery(url: string | URL, query: Readonly<Record<string, QueryValue>> = {}): URL {
  const out = new URL(url);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) out.searchParams.append(name, String(value));
  }
  return out;
}

export async function requestJson<T = unknown>(ctx: ConnectorContext, request: HttpRequest): Promise<HttpResponse<T>> {
  const url = withQuery(request.url, request.query);
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const what = request.secretUrl ? `${request.method} ${url.host}` : `${request.method} ${url.origin}${url.pathname}`;
  const secrets = Object.values(request.headers ?? {});
  const headers: Record<string, string> = { accept: "application/json", ...request.headers };
  if (request.json !== undefined) headers["content-type"] = "application/json";

  let response: Response;
  let text: string;
  try {
    response = await ctx.fetch(url, {
      method: request.method,
      headers,
      body: request.json === undefined ? undefined : JSON.stringify(request.json),
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
      redirect: "follow",
    });
    text = await response.text();
  } catch (error) {
    throw new ConnectorError("transient", redact(`${what}: ${networkReason(error, timeoutMs, ctx.signal)}`, secrets));
  }

  const body = parseBody(text);
  const kind = kindOfStatus(response.status);
  if (kind === undefined) return { status: response.status, headers: response.headers, body: body as T };

  const toolText = toolErrorText(body);
  const message = redact(`${what} answered ${response.status}${toolText ? `: ${toolText}` : ""}`, secrets);
  const retryAfterMs = kind === "rate_limited" ? retryAfterMsOf(response.headers, ctx.now()) : undefined;
  throw new ConnectorError(kind, message, {
    status: response.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

function networkReason(error: unknown, timeoutMs: number, signal: AbortSignal): string {
  if (signal.aborted) return "aborted";
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}

function parseBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Removes every request header value (tokens, keys) from a message, whatever the tool echoed. */
function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) {
    for (const part of [secret, ...secret.split(" ")]) {
      if (part.length >= 8) out = out.split(part).join("[redacted]");
    }
  }
  return out;
}

/**
 * The tool's own words from an error body: Jira `errorMessages`/`errors`, ServiceNow
 * `error.message`/`error.detail`, Redmine `errors: [..]`, `{errors: [{message}]}`, `message`,
 * `error` and `error_description`, or a short plain-text body (Slack answers `invalid_payload`).
 */
export function toolErrorText(body: unknown): string | undefined {
  const parts: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === "string" && value.trim() !== "") parts.push(value.trim());
    else if (typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string") {
      add((value as { message: string }).message);
    }
  };
  if (typeof body === "string") {
    if (!/^\s*</.test(body)) add(body);
  } else if (typeof body === "object" && body !== null) {
    const b = body as Record<string, unknown>;
    if (Array.isArray(b.errorMessages)) b.errorMessages.forEach(add);
    if (Array.isArray(b.errors)) b.errors.forEach(add);
    else if (typeof b.errors === "object" && b.errors !== null) {
      for (const [field, value] of Object.entries(b.errors)) add(typeof value === "string" ? `${field}: ${value}` : value);
    }
    if (typeof b.error === "object" && b.error !== null) {
      const e = b.error as Record<string, unknown>;
      add(e.message);
      add(e.detail);
    } else add(b.error);
    add(b.error_description);
    add(b.message);
  }
  const text = [...new Set(parts)].join("; ");
  return text === "" ? undefined : text.length > MAX_TOOL_TEXT ? `${text.slice(0, MAX_TOOL_TEXT)}…` : text;
}

/**
 * How long a 429 asks us to wait: `Retry-After` in seconds or as an HTTP date, else
 * `X-RateLimit-Reset` (epoch seconds, or seconds from now when small). Undefined when neither says.
 */
export function retryAfterMsOf(headers: Headers, now: Date): number | undefined {
  const retryAfter = headers.get("retry-after")?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now.getTime());
  }
  const reset = headers.get("x-ratelimit-reset")?.trim();
  if (reset && /^\d+(\.\d+)?$/.test(reset)) {
    const value = Number(reset);
    // Epoch seconds are > 1e9; anything smaller is a delay in seconds.
    return value > 1e9 ? Math.max(0, Math.round(value * 1000 - now.getTime())) : Math.round(value * 1000);
  }
  return undefined;
}

/** A request relative to a tool's API root: `path` is appended to the base the client was made with. */
export type ApiRequest = Omit<HttpRequest, "url" | "headers"> & { readonly path: string };

/**
 * A connector's one request function: the tool's API root and auth headers come from the config,
 * e.g. `apiClient((c: JiraConfig) => c.baseUrl, (c) => ({ authorization: basicAuth(c.email, c.apiToken) }))`.
 */
export function apiClient<C>(
  baseUrl: (config: C) => string,
  headers: (config: C) => Readonly<Record<string, string>>,
): <T = unknown>(config: C, ctx: ConnectorContext, request: ApiRequest) => Promise<HttpResponse<T>> {
  return (config, ctx, request) => requestJson(ctx, { ...request, url: `${baseUrl(config)}${request.path}`, headers: headers(config) });
}
