import { requestJson } from "../sdk/http.js";
import type { ConnectorContext } from "../sdk/index.js";
import type { TeamsConfig } from "./config.js";
import type { TeamsMessage } from "./mapping.js";

/**
 * POSTs to the workflow's trigger URL. The trigger answers 202 Accepted as soon as the run is
 * queued (a bad card fails later, inside the run); a wrong `sig` gets 401, a deleted or disabled
 * flow 404, throttling 429 with Retry-After, all with a `{"error":{"code","message"}}` body.
 */
export async function postToWorkflow(config: TeamsConfig, ctx: ConnectorContext, message: TeamsMessage): Promise<void> {
  await requestJson(ctx, { method: "POST", url: config.webhookUrl, secretUrl: true, json: message });
}
