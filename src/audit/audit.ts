import { auditEntries } from "../../schema/db/audit.js";
import { securityActions } from "../auth/security-actions.js";
import type { DbOrTx } from "../db/database.js";
import { contentHashOf, type AuditContent } from "./audit-hash.js";

/**
 * The closed list of audited actions, `entity.verb`. Adding a place that audits means adding its
 * action here, so the list is also the auditors' vocabulary.
 */
export const auditActions = [
  "rule.created",
  "rule.updated",
  "rule.deleted",
  "automation.created",
  "automation.updated",
  "automation.deleted",
  "event.recorded",
  "alarm.raised",
  "alarm.reraised",
  "alarm.acknowledged",
  "alarm.returned_to_normal",
  "alarm.cleared",
  "alarm.shelved",
  "alarm.unshelved",
  "action.skipped",
  "action.dead_lettered",
  "action.replayed",
  "task.created",
  "task.found",
  "task.updated",
  "task.status_changed",
  "notification.sent",
  "webhook.received",
  "lot.started",
  "lot.ended",
  "lot.component_added",
  "lot.quality_recorded",
  "lot.hold_changed",
  "lot.exported",
  "retention.changed",
  "telemetry.expired",
  // Setpoint writes, step by step; old and new values are the point's value before and after.
  "actuation.requested",
  "actuation.refused",
  "actuation.dry_run",
  "actuation.pending_approval",
  "actuation.approved",
  "actuation.rejected",
  "actuation.sent",
  "actuation.confirmed",
  "actuation.mismatch",
  "actuation.failed",
  "calendar.saved",
  "machine_state_config.saved",
  "downtime_reason.set",
  "quality_result.recorded",
  "order.created",
  "order.updated",
  "order.imported",
  "integration.created",
  "integration.updated",
  "integration.deleted",
  "machine.saved",
  "machine.deleted",
  "data_point.saved",
  "data_point.deleted",
  "plant.applied",
  "opcua_endpoint.created",
  "opcua_endpoint.updated",
  "opcua_endpoint.deleted",
  "opcua_binding.set",
  "opcua_binding.removed",
  "record.signed",
  "audit.exported",
  // Sign-in failures, denied operations and key changes: each security event is audited as well.
  ...securityActions,
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditEntry {
  actor: string;
  action: AuditAction;
  entityType: string;
  entityId: string | number;
  oldValue?: Record<string, unknown> | null;
  newValue?: Record<string, unknown> | null;
  reason?: string | null;
  requestId?: string | null;
}

/**
 * Write inside the transaction of the change it describes. Each row carries the hash of its
 * content; the chainer links it into the hash chain shortly after the commit (chainer.ts).
 */
export async function recordAudit(db: DbOrTx, ...entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const at = new Date();
  await db.insert(auditEntries).values(
    entries.map((e) => {
      const content = auditContentOf(e, at);
      return { ...content, at, contentHash: contentHashOf(content) };
    }),
  );
}

/** The hashed fields of an entry about to be written: JSON-safe values, as they will read back. */
function auditContentOf(e: AuditEntry, at: Date): AuditContent {
  return {
    at: at.toISOString(),
    actor: e.actor,
    action: e.action,
    entityType: e.entityType,
    entityId: String(e.entityId),
    oldValue: jsonSafe(e.oldValue),
    newValue: jsonSafe(e.newValue),
    reason: e.reason ?? null,
    requestId: e.requestId ?? null,
  };
}

/** jsonb keeps what JSON keeps: Dates become strings, undefined members vanish. */
function jsonSafe(value: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  return value == null ? null : (JSON.parse(JSON.stringify(value)) as Record<string, unknown>);
}

/** The actor of changes the hub makes by itself. */
export const systemActor = (component: string) => `system:${component}`;
