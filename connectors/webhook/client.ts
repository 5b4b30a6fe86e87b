import { requestJson } from "../sdk/http.js";
import type { HttpResponse } from "../sdk/http.js";
import { signTimestamped } from "../sdk/webhook.js";
import type { ConnectorContext } from "../sdk/index.js";
import type { WebhookConfig } from "./config.js";

export const signatureHeader = "x-plantgraph-signature";

/**
 * POSTs `payload` as JSON, signed over the exact bytes sent: `requestJson` serialises `json` with
 * `JSON.stringify`, the same call that produced the signed text here.
 */
export function postSigned<T>(
  config: WebhookConfig,
  ctx: ConnectorContext,
  payload: object,
  headers: Record<string, string> = {},
): Promise<HttpResponse<T>> {
  const timestamp = Math.floor(ctx.now().getTime() / 1000);
  return requestJson<T>(ctx, {
    method: "POST",
    url: config.url,
    secretUrl: true,
    headers: { ...headers, [signatureHeader]: signTimestamped(config.secret, timestamp, JSON.stringify(payload)) },
    json: payload,
  });
}
