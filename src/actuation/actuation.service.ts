import { and, desc, eq, isNotNull, max } from "drizzle-orm";
import { actuationLimits, actuationRequests, machineMethods, type ActuationStatus } from "../../schema/db/actuation.js";
import { dataPoints } from "../../schema/db/assets.js";
import { machineConnectivity } from "../../schema/db/connectivity.js";
import { telemetry } from "../../schema/db/telemetry.js";
import { recordAudit, type AuditAction } from "../audit/audit.js";
import type { Tx } from "../db/database.js";
import type { AfterCommit } from "../events/after-commit.js";
import { decideActuation, type ActuationLimits, type GuardDecision, type GuardInput } from "./actuation.guard.js";

/**
 * Setpoint writes and method calls: requested, approved or rejected, each checked by the guard
 * and written with its audit rows inside the caller's transaction. Sending is the Actuator's job,
 * after the commit. The target's row (limits or method) is locked while a request is checked, so
 * two requests cannot both slip through one minimum interval.
 */

export type ActuationRow = typeof actuationRequests.$inferSelect;

interface RequestBase {
  machineId: number;
  reason: string;
  dryRun: boolean;
  /** People hold the right through their role; an automation only where the target allows automations. */
  requester: { id: string; kind: "person" | "automation" };
  eventId?: number;
  requestId?: string;
}
export interface SetpointRequest extends RequestBase {
  point: string;
  value: number;
}
export interface MethodCallRequest extends RequestBase {
  method: string;
  arguments: Record<string, unknown>;
}

export type ActuationResult = { ok: true; row: ActuationRow } | { ok: false; field: string; message: string };

/** A point or method as the guard sees it; `limits` undefined: it cannot be acted on. */
interface Target {
  columns: Pick<typeof actuationRequests.$inferInsert, "dataPointId" | "value" | "methodId" | "arguments">;
  /** What the audit rows say the request is about, and the value before (setpoints). */
  described: Record<string, unknown>;
  limits: (ActuationLimits & { allowAutomation: boolean }) | undefined;
  notActionable: string;
  write?: GuardInput["write"];
}

const statusOf: Record<GuardDecision["outcome"], ActuationStatus> = {
  refused: "refused",
  dry_run: "dry_run",
  pending_approval: "pending_approval",
  approved: "approved",
};

export async function requestSetpoint(tx: Tx, after: AfterCommit, request: SetpointRequest, now = Date.now()): Promise<ActuationResult> {
  const [point] = await tx.select().from(dataPoints).where(and(eq(dataPoints.machineId, request.machineId), eq(dataPoints.name, request.point)));
  if (!point) return { ok: false, field: "point", message: `the machine has no data point "${request.point}"` };
  return record(tx, after, request, await pointTarget(tx, point, request.value), now);
}

export async function requestMethodCall(tx: Tx, after: AfterCommit, request: MethodCallRequest, now = Date.now()): Promise<ActuationResult> {
  const [method] = await tx.select().from(machineMethods).where(and(eq(machineMethods.machineId, request.machineId), eq(machineMethods.name, request.method))).for("update");
  if (!method) return { ok: false, field: "method", message: `the machine offers no method "${request.method}"` };
  if (method.transport === "sparkplug" && Object.keys(request.arguments).length > 0) {
    return { ok: false, field: "arguments", message: "a Sparkplug method takes no arguments: its command metric is set true" };
  }
  return record(tx, after, request, methodTarget(method, request.arguments), now);
}

async function record(tx: Tx, after: AfterCommit, request: RequestBase, target: Target, now: number): Promise<ActuationResult> {
  const reason = request.reason.trim();
  if (reason === "") return { ok: false, field: "reason", message: "say why" };
  const decision: GuardDecision = target.limits
    ? decideActuation({
        requester: { id: request.requester.id, mayActuate: request.requester.kind === "person" || target.limits.allowAutomation },
        limits: target.limits,
        write: target.write,
        lastSentAt: await lastSentAt(tx, target),
        now,
        dryRun: request.dryRun,
        offline: await offlineReason(tx, request.machineId),
      })
    : { outcome: "refused", reasons: [target.notActionable] };
  const [row] = await tx
    .insert(actuationRequests)
    .values({
      machineId: request.machineId,
      ...target.columns,
      dryRun: request.dryRun,
      status: statusOf[decision.outcome],
      requestedBy: request.requester.id,
      reason,
      eventId: request.eventId ?? null,
      beforeValue: target.write?.current ?? null,
      detail: decision.outcome === "refused" ? decision.reasons.join("; ") : null,
      ...(decision.outcome === "refused" || decision.outcome === "dry_run" ? { finishedAt: new Date(now) } : {}),
    })
    .returning();
  const audit = { actor: request.requester.id, entityType: "actuation_request", entityId: row!.id, requestId: request.requestId ?? null };
  const args = target.columns.arguments ? { arguments: target.columns.arguments } : {};
  const values = {
    oldValue: { ...target.described, value: target.write?.current ?? null },
    newValue: { ...target.described, value: target.write?.value ?? null, ...args, dryRun: request.dryRun },
  };
  await recordAudit(
    tx,
    { ...audit, ...values, action: "actuation.requested", reason },
    { ...audit, ...values, action: `actuation.${decision.outcome}` satisfies AuditAction, reason: decision.outcome === "refused" ? row!.detail : null },
  );
  announce(after, row!);
  return { ok: true, row: row! };
}

/** A second person approves a pending request; its limits are checked again against the present. */
export async function approveActuation(tx: Tx, after: AfterCommit, id: number, approver: { id: string; requestId?: string }, now = Date.now()): Promise<ActuationResult> {
  const pending = await lockPending(tx, id);
  if (!pending.ok) return pending;
  const { row } = pending;
  const target = await targetOf(tx, row);
  const decision: GuardDecision = target.limits
    ? decideActuation({
        requester: { id: row.requestedBy, mayActuate: true },
        approver: approver.id,
        limits: target.limits,
        write: target.write,
        lastSentAt: await lastSentAt(tx, target),
        now,
        dryRun: false,
        offline: await offlineReason(tx, row.machineId),
      })
    : { outcome: "refused", reasons: [target.notActionable] };
  const audit = { actor: approver.id, entityType: "actuation_request", entityId: id, requestId: approver.requestId ?? null, oldValue: { value: target.write?.current ?? null }, newValue: { value: row.value } };
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
      beforeValue: target.write?.current ?? null,
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
  if (reason.trim() === "") return { ok: false, field: "reason", message: "say why it is rejected" };
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

async function pointTarget(tx: Tx, point: typeof dataPoints.$inferSelect, value: number): Promise<Target> {
  const [limits] = await tx.select().from(actuationLimits).where(eq(actuationLimits.dataPointId, point.id)).for("update");
  return {
    columns: { dataPointId: point.id, value },
    described: { point: point.name },
    limits,
    notActionable: `"${point.name}" is not writable: it declares no actuation limits`,
    write: { value, dataType: point.dataType, current: await currentValue(tx, point.id) },
  };
}

function methodTarget(method: typeof machineMethods.$inferSelect, args: Record<string, unknown>): Target {
  return {
    columns: { methodId: method.id, arguments: args },
    described: { method: method.name },
    limits: { min: null, max: null, maxStep: null, minIntervalMs: method.minIntervalMs, critical: method.critical, allowAutomation: method.allowAutomation },
    notActionable: "",
  };
}

async function targetOf(tx: Tx, row: ActuationRow): Promise<Target> {
  if (row.methodId !== null) {
    const [method] = await tx.select().from(machineMethods).where(eq(machineMethods.id, row.methodId)).for("update");
    return methodTarget(method!, row.arguments ?? {});
  }
  const [point] = await tx.select().from(dataPoints).where(eq(dataPoints.id, row.dataPointId!));
  return pointTarget(tx, point!, row.value!);
}

async function lockPending(tx: Tx, id: number): Promise<{ ok: true; row: ActuationRow } | { ok: false; field: string; message: string }> {
  const [row] = await tx.select().from(actuationRequests).where(eq(actuationRequests.id, id)).for("update");
  if (!row) return { ok: false, field: "id", message: "no setpoint write or method call has this id" };
  if (row.status !== "pending_approval") return { ok: false, field: "id", message: `it is ${row.status.replace("_", " ")}, not awaiting approval` };
  return { ok: true, row };
}

function announce(after: AfterCommit, row: ActuationRow): void {
  after.publish("ACTUATION_CHANGED", { actuationId: row.id, machineId: row.machineId, status: row.status, at: new Date().toISOString() });
}

async function offlineReason(tx: Tx, machineId: number): Promise<string | undefined> {
  const [row] = await tx.select().from(machineConnectivity).where(eq(machineConnectivity.machineId, machineId));
  return row && !row.online ? row.reason : undefined;
}

async function currentValue(tx: Tx, dataPointId: number): Promise<number | undefined> {
  const [latest] = await tx.select({ value: telemetry.value }).from(telemetry).where(eq(telemetry.dataPointId, dataPointId)).orderBy(desc(telemetry.ts)).limit(1);
  return latest?.value;
}

async function lastSentAt(tx: Tx, target: Target): Promise<number | undefined> {
  const { dataPointId, methodId } = target.columns;
  const [row] = await tx
    .select({ at: max(actuationRequests.sentAt) })
    .from(actuationRequests)
    .where(and(dataPointId ? eq(actuationRequests.dataPointId, dataPointId) : eq(actuationRequests.methodId, methodId!), isNotNull(actuationRequests.sentAt)));
  return row?.at ? new Date(row.at).getTime() : undefined;
}
