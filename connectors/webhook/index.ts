import { defineConnector } from "../sdk/index.js";
import { postSigned } from "./client.js";
import { webhookConfigSchema, webhookSecretKeys } from "./config.js";
import type { WebhookConfig } from "./config.js";
import { createPayload, notificationPayload, taskFromAnswer, updatePayload } from "./mapping.js";
import { parseCallback, verifyCallback } from "./webhook.js";

/**
 * A generic signed JSON webhook for tools plantgraph has no connector for. The receiver owns
 * idempotency: every create carries `X-Plantgraph-Key` (and `key` in the body), the same for
 * every retry. Status comes back through signed callbacks to the hub.
 */
export const webhookConnector = defineConnector<WebhookConfig>({
  kind: "webhook",
  displayName: "Webhook",
  capabilities: { tasks: true, notify: true, webhook: true, poll: false },
  configSchema: webhookConfigSchema,
  secretKeys: webhookSecretKeys,
  rateLimit: { max: 10, durationMs: 1_000 },

  /** A signed `{"type":"ping"}`: the receiver proves it is there and accepts our signature. */
  async verifyConfig(config, ctx) {
    await postSigned(config, ctx, { type: "ping" });
  },

  async createTask(config, draft, ctx) {
    const response = await postSigned(config, ctx, createPayload(draft), { "x-plantgraph-key": draft.key });
    return taskFromAnswer(config, response.body, { id: draft.key, status: "open" });
  },

  async updateTask(config, update, ctx) {
    const response = await postSigned(config, ctx, updatePayload(update));
    return taskFromAnswer(config, response.body, { id: update.externalId, status: update.status ?? "open" });
  },

  async notify(config, notification, ctx) {
    await postSigned(config, ctx, notificationPayload(notification), { "x-plantgraph-key": notification.key });
  },

  verifyWebhook: (config, request, ctx) => verifyCallback(config, request, ctx.now()),
  parseWebhook: (config, request, ctx) => parseCallback(config, request, ctx.now()),
});
