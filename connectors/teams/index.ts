import { ConnectorError, defineConnector } from "../sdk/index.js";
import { postToWorkflow } from "./client.js";
import { teamsConfigSchema, teamsSecretKeys, teamsUrlOk } from "./config.js";
import type { TeamsConfig } from "./config.js";
import { teamsMessage } from "./mapping.js";

/** Microsoft Teams channel notifications through a Workflows (Power Automate) webhook. */
export const teamsConnector = defineConnector<TeamsConfig>({
  kind: "teams",
  displayName: "Microsoft Teams",
  capabilities: { tasks: false, notify: true, webhook: false, poll: false },
  configSchema: teamsConfigSchema,
  secretKeys: teamsSecretKeys,
  rateLimit: { max: 2, durationMs: 1_000 },

  /**
   * The URL's shape, then a message with no attachments: the trigger checks `sig` (401 when
   * wrong, 404 when the flow is gone) and the run's "for each attachment" posts nothing.
   */
  async verifyConfig(config, ctx) {
    if (!teamsUrlOk(config.webhookUrl, config.allowInsecureUrl)) {
      throw new ConnectorError("rejected", "teams: webhookUrl is not a Workflows webhook URL");
    }
    await postToWorkflow(config, ctx, { type: "message", attachments: [] });
  },

  async notify(config, notification, ctx) {
    await postToWorkflow(config, ctx, teamsMessage(notification));
  },
});
