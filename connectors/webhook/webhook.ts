import { header, verifyTimestamped } from "../sdk/webhook.js";
import type { StatusChange, WebhookRequest } from "../sdk/index.js";
import { CALLBACK_TOLERANCE_SECONDS } from "./config.js";
import type { WebhookConfig } from "./config.js";
import { signatureHeader } from "./client.js";
import { callbackSchema, statusOf } from "./mapping.js";

const callbackSecret = (config: WebhookConfig): string => config.statusCallbackSecret ?? config.secret;

/** Signed like our outbound calls, within ±5 minutes of now (an old captured call cannot be replayed). */
export function verifyCallback(config: WebhookConfig, request: WebhookRequest, now: Date): boolean {
  return verifyTimestamped(callbackSecret(config), header(request, signatureHeader), request.body, now.getTime(), CALLBACK_TOLERANCE_SECONDS);
}

export function parseCallback(config: WebhookConfig, request: WebhookRequest, now: Date): StatusChange[] {
  let json: unknown;
  try {
    json = JSON.parse(request.body.toString("utf8"));
  } catch {
    return [];
  }
  const callback = callbackSchema.safeParse(json);
  if (!callback.success) return [];
  const status = statusOf(config, callback.data.status);
  if (status === undefined) return [];
  const at = callback.data.at ? new Date(callback.data.at) : now;
  return [
    {
      externalId: callback.data.id,
      status,
      externalStatus: callback.data.status,
      ...(callback.data.actor ? { actor: callback.data.actor } : {}),
      at: (Number.isNaN(at.getTime()) ? now : at).toISOString(),
    },
  ];
}
