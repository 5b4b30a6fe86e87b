import { and, desc, eq, isNotNull, max } from "drizzle-orm";
import { actuationLimits, actuationRequests, type ActuationStatus } from "../../schema/db/actuation.js";
import { dataPoints } from "../../schema/db/assets.js";
import { telemetry } from "../../schema/db/telemetry.js";
import { recordAudit, type AuditAction } from "../audit/audit.js";
import type { Tx } from "../db/database.js";
import type { AfterCommit } from "../events/after-commit.js";
import { decideActuation, type GuardDecision } from "./actuation.guard.js";

/**
 * Setpoint requests, approvals and rejections: each checked by the guard and written with its
 * audit rows inside the caller's transaction. Sending is the Actuator's job, after the commit.
 * The point's limits row is locked while a request is checked, so two writes cannot both slip
 * through one minimum interval.
 */

export type ActuationRow = typeof actuationRequests.$inferSelect;

export interface SetpointRequest {
  machineId: number;
  point: string;
  value: number;
  reason: string;
  dryRun: boolean;
  /** People hold the right through their role; an automation only where the point allows automations. */
  requester: { id: string; kind: "person" | "automation" };
  eventId?: number;
  requestId?: string;
}

export type ActuationResult = { ok: true; row: ActuationRow } | { ok: false; field: string; message: string };

const statusOf: Record<GuardDecision["outcome"], ActuationStatus> = {
  refused: "refused",
  dry_run: "dry_run",
  pending_approval: "pending_approval",
  approved: "approved",
};

export async function requestSetpoint(tx: Tx, after: AfterCommit, request: SetpointRequest, now = Date.now()): Promise<ActuationResult> {
  const reason = request.reason.trim();
  if (reason === "") return { ok: false, field: "reason", message: "say why the value is written" };
  const [point] = await tx.select().from(dataPoints).where(and(eq(dataPoints.machineId, request.machineId), eq(dataPoints.name, request.point)));
  if (!point) return { ok: false, field: "point", message: `the machine has no data point "${request.point}"` };
  const [limits] = await tx.select().from(actuationLimits).where(eq(actuationLimits.dataPointId, point.id)).for("update");
  const current = await currentValue(tx, point.id);
  const decision: GuardDecision = limits
    ? decideActuation({
        requester: { id: request.requester.id, mayActuate: request.requester.kind === "person" || limits.allowAutomation },
        limits,
        dataType: point.dataType,
        value: request.value,
        current,
        lastSentAt: await lastSentAt(tx, point.id),
        now,
        dryRun: request.dryRun,
      })
    : { outcome: "refused", reasons: [`"${point.name}" is not writable: it declares no actuation limits`] };
  const [row] = await tx
    .insert(actuationRequests)
    .values({
      machineId: request.machineId,
      dataPointId: point.id,
      value: request.value,
      dryRun: request.dryRun,
      status: statusOf[decision.outcome],
      requestedBy: request.requester.id,
      reason,
      eventId: request.eventId ?? null,
      beforeValue: current ?? null,
      detail: decision.outcome === "refused" ? decision.reasons.join("; ") : null,
      ...(decision.outcome === "refused" || decision.outcome === "dry_run" ? { finishedAt: new Date(now) } : {}),
    })
    .returning();
  const audit = { actor: request.requester.id, entityType: "actuation_request", entityId: row!.id, requestId: request.requestId ?? null };
  const values = { oldValue: { point: point.name, value: current ?? null }, newValue: { point: point.name, value: request.value, dryRun: request.dryRun } };
  await recordAudit(
    tx,
    { ...audit, ...values, action: "actuation.requested", reason },
    { ...audit, ...values, action: `actuation.${decision.outcome}` satisfies AuditAction, reason: decision.outcome === "refused" ? row!.detail : null },
  );
  announce(after, row!);
  return { ok: true, row: row! };
}

/** A second person approves a pending write; the limits are checked again against the present. */
export async function approveActuation(tx: Tx, after: AfterCommit, id: number, approver: { id: string; requestId?: string }, now = Date.now()): Promise<ActuationResult> {
  const pending = await lockPending(tx, id);
  if (!pending.ok) return pending;
  const { row } = pending;
  const [point] = await tx.select().from(dataPoints).where(eq(dataPoints.id, row.dataPointId));
  const [limits] = await tx.select().from(actuationLimits).where(eq(actuationLimits.dataPointId, row.dataPointId)).for("update");
  const current = await currentValue(tx, row.dataPointId);
  const decision: GuardDecision = limits
    ? decideActuation({
        requester: { id: row.requestedBy, mayActuate: true },
        approver: approver.id,
        limits,
        dataType: point!.dataType,
        value: row.value,
        current,
        lastSentAt: await lastSentAt(tx, row.dataPointId),
        now,
        dryRun: false,
      })
    : { outcome: "refused", reasons: ["the point is no longer writable"] };
  const audit = { actor: approver.id, entityType: "actuation_request", entityId: id, requestId: approver.requestId ?? null, oldValue: { value: current ?? null }, newValue: { value: row.value } };
  if (decision.outcome === "refused" && approver.id === row.requestedBy) {
    // The request stays pending for someone else; the attempt is on the record.
    await recordAudit(tx, { ...audit, action: "actuation.refused", reason: decision.reasons.join("; ") });
    return { ok: false, field: "id", message: decision.reasons.join("; ") };
  }
  const approved = decision.outcome === "approved";
  const [updated] = await tx
    .update(actuationRequests)
    .set({
      status: approved ? "approved" : "refused",
      decidedBy: approver.id,
      decidedAt: new Date(now),
      beforeValue: current ?? null,
      detail: decision.outcome === "refused" ? decision.reasons.join("; ") : null,
      ...(approved ? {} : { finishedAt: new Date(now) }),
    })
    .where(eq(actuationRequests.id, id))
    .returning();
  await recordAudit(tx, { ...audit, action: approved ? "actuation.approved" : "actuation.refused", reason: updated!.detail });
  announce(after, updated!);
  return { ok: true, row: updated! };
}

export async function rejectActuation(tx: Tx, after: AfterCommit, id: number, approver: { id: string; requestId?: string }, reason: string, now = Date.now()): Promise<ActuationResult> {
  if (reason.trim() === "") return { ok: false, field: "reason", message: "say why the write is rejected" };
  const pending = await lockPending(tx, id);
  if (!pending.ok) return pending;
  const [updated] = await tx
    .update(actuationRequests)
    .set({ status: "refused", decidedBy: approver.id, decidedAt: new Date(now), finishedAt: new Date(now), detail: `rejected: ${reason.trim()}` })
    .where(eq(actuationRequests.id, id))
    .returning();
  await recordAudit(tx, { actor: approver.id, action: "actuation.rejected", entityType: "actuation_request", entityId: id, requestId: approver.requestId ?? null, newValue: { value: updated!.value }, reason: reason.trim() });
  announce(after, updated!);
  return { ok: true, row: updated! };
}

async function lockPending(tx: Tx, id: number): Promise<{ ok: true; row: ActuationRow } | { ok: false; field: string; message: string }> {
  const [row] = await tx.select().from(actuationRequests).where(eq(actuationRequests.id, id)).for("update");
  if (!row) return { ok: false, field: "id", message: "no setpoint write has this id" };
  if (row.status !== "pending_approval") return { ok: false, field: "id", message: `the write is ${row.status.replace("_", " ")}, not awaiting approval` };
  return { ok: true, row };
}

function announce(after: AfterCommit, row: ActuationRow): void {
  after.publish("ACTUATION_CHANGED", { actuationId: row.id, machineId: row.machineId, status: row.status, at: new Date().toISOString() });
}

async function currentValue(tx: Tx, dataPointId: number): Promise<number | undefined> {
  const [latest] = await tx.select({ value: telemetry.value }).from(telemetry).where(eq(telemetry.dataPointId, dataPointId)).orderBy(desc(telemetry.ts)).limit(1);
  return latest?.value;
}

async function lastSentAt(tx: Tx, dataPointId: number): Promise<number | undefined> {
  const [row] = await tx
    .select({ at: max(actuationRequests.sentAt) })
    .from(actuationRequests)
    .where(and(eq(actuationRequests.dataPointId, dataPointId), isNotNull(actuationRequests.sentAt)));
  return row?.at ? new Date(row.at).getTime() : undefined;
}
