import { basicAuth, requestJson, type ConnectorContext, type HttpRequest, type HttpResponse } from "../sdk/index.js";
import type { JiraConfig } from "./config.js";

/** One request to the Jira Cloud REST API: the site's base URL and Basic `email:apiToken`. */
export function jiraRequest<T>(
  config: JiraConfig,
  ctx: ConnectorContext,
  request: Omit<HttpRequest, "url" | "headers"> & { readonly path: string },
): Promise<HttpResponse<T>> {
  return requestJson<T>(ctx, {
    ...request,
    url: `${config.baseUrl}${request.path}`,
    headers: { authorization: basicAuth(config.email, config.apiToken) },
  });
}
