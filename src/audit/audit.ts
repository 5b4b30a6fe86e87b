import { auditEntries } from "../../schema/db/audit.js";
import type { DbOrTx } from "../db/database.js";

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

/** Write inside the transaction of the change it describes. */
export async function recordAudit(db: DbOrTx, ...entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.insert(auditEntries).values(
    entries.map((e) => ({
      actor: e.actor,
      action: e.action,
      entityType: e.entityType,
      entityId: String(e.entityId),
      oldValue: e.oldValue ?? null,
      newValue: e.newValue ?? null,
      reason: e.reason ?? null,
      requestId: e.requestId ?? null,
    })),
  );
}

/** The actor of changes the hub makes by itself. */
export const systemActor = (component: string) => `system:${component}`;
