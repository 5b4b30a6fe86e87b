import type { DataType } from "../../schema/db/assets.js";

/**
 * Whether a setpoint write or a method call may go out: pure, no I/O, no clock of its own. People
 * and automations pass through the same checks; only how the right is established differs (a
 * role's permission, or the target's allowAutomation).
 */

export interface ActuationLimits {
  /** Value limits: setpoint writes only (null for method calls). */
  min: number | null;
  max: number | null;
  maxStep: number | null;
  minIntervalMs: number | null;
  critical: boolean;
}

export interface GuardInput {
  /** Who asks, and whether they hold the right. */
  requester: { id: string; mayActuate: boolean };
  limits: ActuationLimits;
  /** A setpoint write: the value, the point's type, and its latest value (the maximum step is measured from it). */
  write?: { value: number; dataType: DataType; current: number | undefined };
  /** When the last write or call to this target was sent (epoch ms). */
  lastSentAt: number | undefined;
  now: number;
  dryRun: boolean;
  /** Set when a second person decides on a pending request. */
  approver?: string;
  /** Why the machine is offline (its source declared it dead); a command would not arrive. */
  offline?: string;
}

export type GuardDecision =
  | { outcome: "refused"; reasons: string[] }
  | { outcome: "dry_run" }
  | { outcome: "pending_approval" }
  | { outcome: "approved" };

export function decideActuation(input: GuardInput): GuardDecision {
  if (!input.requester.mayActuate) return { outcome: "refused", reasons: [`${input.requester.id} may not act on this target`] };
  if (input.approver !== undefined && input.approver === input.requester.id) {
    return { outcome: "refused", reasons: ["a critical action needs the approval of a second person, not of its requester"] };
  }
  const reasons = [
    ...(input.offline === undefined ? [] : [`the machine is offline (${input.offline})`]),
    ...(input.write ? valueViolations(input.write, input.limits) : []),
    ...intervalViolations(input),
  ];
  if (reasons.length > 0) return { outcome: "refused", reasons };
  if (input.dryRun) return { outcome: "dry_run" };
  if (input.limits.critical && input.approver === undefined) return { outcome: "pending_approval" };
  return { outcome: "approved" };
}

/** Every value limit the write would break, each said in words. */
function valueViolations({ value, dataType, current }: NonNullable<GuardInput["write"]>, limits: ActuationLimits): string[] {
  const reasons: string[] = [];
  if (!Number.isFinite(value)) reasons.push("the value must be a finite number");
  else if (dataType === "integer" && !Number.isSafeInteger(value)) reasons.push(`the point takes integers, got ${value}`);
  else if (dataType === "boolean" && value !== 0 && value !== 1) reasons.push(`the point takes 0 or 1, got ${value}`);
  if (limits.min !== null && value < limits.min) reasons.push(`${value} is below the minimum ${limits.min}`);
  if (limits.max !== null && value > limits.max) reasons.push(`${value} is above the maximum ${limits.max}`);
  if (limits.maxStep !== null) {
    if (current === undefined) reasons.push("the point has no current value to measure the step from");
    else if (Math.abs(value - current) > limits.maxStep) {
      reasons.push(`a step of ${round(Math.abs(value - current))} from ${current} exceeds the maximum step ${limits.maxStep}`);
    }
  }
  return reasons;
}

function intervalViolations({ limits, lastSentAt, now }: GuardInput): string[] {
  if (limits.minIntervalMs === null || lastSentAt === undefined) return [];
  const waitMs = lastSentAt + limits.minIntervalMs - now;
  return waitMs > 0 ? [`the last one was sent ${round((now - lastSentAt) / 1000)} s ago; wait ${round(waitMs / 1000)} s more`] : [];
}

const round = (n: number) => Math.round(n * 1000) / 1000;
