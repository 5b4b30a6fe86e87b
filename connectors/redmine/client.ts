import { requestJson } from "../sdk/http.js";
import type { HttpMethod, HttpResponse, QueryValue } from "../sdk/http.js";
import type { ConnectorContext } from "../sdk/index.js";
import type { RedmineConfig } from "./config.js";

/** One Redmine REST call: `<baseUrl><path>` with `X-Redmine-API-Key`, JSON in and out. */
export function redmineRequest<T>(
  config: RedmineConfig,
  ctx: ConnectorContext,
  method: HttpMethod,
  path: string,
  options: { json?: unknown; query?: Record<string, QueryValue> } = {},
): Promise<HttpResponse<T>> {
  return requestJson<T>(ctx, {
    method,
    url: `${config.baseUrl}${path}`,
    headers: { "x-redmine-api-key": config.apiKey },
    ...options,
  });
}
