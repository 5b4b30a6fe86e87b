import { z } from "zod";
import { taskStatuses } from "../sdk/index.js";

/**
 * A generic outbound JSON webhook: every call is signed `X-Plantgraph-Signature: t=<unix s>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>">` with `secret`. The receiver may call the hub back with status
 * changes signed the same way, with `statusCallbackSecret` when set, else with `secret`.
 */
export const webhookConfigSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  secret: z.string().min(16),
  statusCallbackSecret: z.string().min(16).optional(),
  /** The receiver's own status names → canonical status (canonical names always work). */
  statusMap: z.record(z.string().min(1), z.enum(taskStatuses)).default({}),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export const webhookSecretKeys = ["secret", "statusCallbackSecret"] as const;

/** Inbound callbacks older or newer than this are refused (replay window). */
export const CALLBACK_TOLERANCE_SECONDS = 300;
