import { ConnectorError, defineConnector, isConnectorError } from "../sdk/index.js";
import { postToSlack } from "./client.js";
import { slackConfigSchema, slackSecretKeys, slackUrlProblem } from "./config.js";
import type { SlackConfig } from "./config.js";
import { slackMessage } from "./mapping.js";

/** What a live webhook answers to a payload without text: it exists and the URL is valid. */
const LIVE_BUT_EMPTY = /\b(no_text|missing_text_or_fallback_or_attachments)\b/;

/** Slack notifications through an incoming webhook (one channel per URL). */
export const slackConnector = defineConnector<SlackConfig>({
  kind: "slack",
  displayName: "Slack",
  capabilities: { tasks: false, notify: true, webhook: false, poll: false },
  configSchema: slackConfigSchema,
  secretKeys: slackSecretKeys,
  // Incoming webhooks take about one message a second (short bursts tolerated).
  rateLimit: { max: 1, durationMs: 1_000 },

  /**
   * The URL's shape, then an empty payload: a live webhook refuses it with 400 `no_text` and
   * posts nothing; a revoked or mistyped one answers 403/404 (auth / not_found).
   */
  async verifyConfig(config, ctx) {
    const problem = slackUrlProblem(config.webhookUrl, config.allowInsecureUrl);
    if (problem) throw new ConnectorError("rejected", `slack: webhookUrl is ${problem}`);
    try {
      await postToSlack(config, ctx, {});
    } catch (error) {
      if (isConnectorError(error) && error.details.status === 400 && LIVE_BUT_EMPTY.test(error.message)) return;
      throw error;
    }
  },

  async notify(config, notification, ctx) {
    await postToSlack(config, ctx, slackMessage(notification));
  },
});
