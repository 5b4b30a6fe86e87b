import { securityEvents } from "../../schema/db/security.js";
import { recordAudit } from "../audit/audit.js";
import type { DbOrTx } from "../db/database.js";
import type { SecurityAction } from "./security-actions.js";

export { securityActions, type SecurityAction } from "./security-actions.js";


export interface SecurityEvent {
  action: SecurityAction;
  actor: string;
  outcome: "success" | "failure" | "denied";
  resource?: string;
  /** Never credentials: what was attempted and why it failed. */
  detail?: Record<string, unknown>;
  requestId?: string;
}

/** Recorded twice in one transaction: in the security log and in the tamper-evident audit trail. */
export async function recordSecurityEvent(db: DbOrTx, event: SecurityEvent): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(securityEvents).values({
      action: event.action,
      actor: event.actor,
      outcome: event.outcome,
      resource: event.resource ?? null,
      detail: event.detail ?? {},
      requestId: event.requestId ?? null,
    });
    await recordAudit(tx, {
      actor: event.actor,
      action: event.action,
      entityType: "security",
      entityId: event.resource ?? "-",
      newValue: { outcome: event.outcome, ...event.detail },
      requestId: event.requestId,
    });
  });
}
