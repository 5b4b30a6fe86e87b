import { requestJson } from "../sdk/http.js";
import type { HttpResponse } from "../sdk/http.js";
import type { ConnectorContext } from "../sdk/index.js";
import type { SlackConfig } from "./config.js";

/**
 * POSTs to the incoming webhook. Slack answers 200 `ok` (text/plain), or a status with a text
 * code: 400 invalid_payload / no_text, 403 invalid_token / action_prohibited, 404 no_service /
 * channel_not_found, 410 channel_is_archived, 429 with Retry-After, 500 rollup_error. The status
 * alone gives the kind (410 is final: rejected); the code travels in the message.
 */
export function postToSlack(config: SlackConfig, ctx: ConnectorContext, payload: object): Promise<HttpResponse<unknown>> {
  return requestJson(ctx, { method: "POST", url: config.webhookUrl, secretUrl: true, json: payload });
}
