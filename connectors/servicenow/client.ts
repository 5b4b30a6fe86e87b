import { basicAuth, requestJson } from "../sdk/http.js";
import type { HttpMethod, HttpResponse, QueryValue } from "../sdk/http.js";
import type { ConnectorContext } from "../sdk/index.js";
import type { ServiceNowConfig } from "./config.js";

/** One Table API call on the configured instance, Basic auth, JSON in and out. */
export function serviceNowRequest<T>(
  config: ServiceNowConfig,
  ctx: ConnectorContext,
  method: HttpMethod,
  pathOrUrl: string | URL,
  options: { json?: unknown; query?: Record<string, QueryValue> } = {},
): Promise<HttpResponse<T>> {
  return requestJson<T>(ctx, {
    method,
    url: typeof pathOrUrl === "string" ? `${config.instanceUrl}${pathOrUrl}` : pathOrUrl,
    headers: { authorization: basicAuth(config.username, config.password) },
    ...options,
  });
}

/**
 * The `rel="next"` target of a Table API `Link` header, when it stays on the instance (the
 * credential is never sent to another origin).
 */
export function nextLink(config: ServiceNowConfig, link: string | null): URL | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]+)>\s*;(.*)$/.exec(part);
    if (!match?.[1] || !/\brel="?next"?/.test(match[2] ?? "")) continue;
    const next = new URL(match[1], config.instanceUrl);
    return next.origin === new URL(config.instanceUrl).origin ? next : undefined;
  }
  return undefined;
}
