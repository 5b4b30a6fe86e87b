import { securityEvents } from "../../schema/db/security.js";
import type { DbOrTx } from "../db/database.js";

/** The closed list of security-relevant actions; adding a place that records means adding one here. */
export const securityActions = [
  "auth.failed",
  "auth.denied",
  "apikey.created",
  "apikey.revoked",
  "demo_key.issued",
  "integration.secrets_set",
  "opcua_endpoint.secrets_set",
  "opcua.certificate_trusted",
  "secrets.rotated",
  "rate_limit.exceeded",
  "webhook.rejected",
] as const;
export type SecurityAction = (typeof securityActions)[number];

export interface SecurityEvent {
  action: SecurityAction;
  actor: string;
  outcome: "success" | "failure" | "denied";
  resource?: string;
  /** Never credentials: what was attempted and why it failed. */
  detail?: Record<string, unknown>;
  requestId?: string;
}

export async function recordSecurityEvent(db: DbOrTx, event: SecurityEvent): Promise<void> {
  await db.insert(securityEvents).values({
    action: event.action,
    actor: event.actor,
    outcome: event.outcome,
    resource: event.resource ?? null,
    detail: event.detail ?? {},
    requestId: event.requestId ?? null,
  });
}
