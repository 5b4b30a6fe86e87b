import type { DataType } from "../../schema/db/assets.js";

/**
 * Whether a setpoint write may go out: pure, no I/O, no clock of its own. People and automations
 * pass through the same checks; only how the right is established differs (role or point flag).
 */

export interface ActuationLimits {
  min: number | null;
  max: number | null;
  maxStep: number | null;
  minIntervalMs: number | null;
  critical: boolean;
}

export interface GuardInput {
  /** Who asks, and whether they hold the right to write (a role's permission, or the point's allowAutomation). */
  requester: { id: string; mayActuate: boolean };
  limits: ActuationLimits;
  dataType: DataType;
  value: number;
  /** The point's latest value; the maximum step is measured from it. */
  current: number | undefined;
  /** When the last write to this point was sent (epoch ms). */
  lastSentAt: number | undefined;
  now: number;
  dryRun: boolean;
  /** Set when a second person decides on a pending request. */
  approver?: string;
}

export type GuardDecision =
  | { outcome: "refused"; reasons: string[] }
  | { outcome: "dry_run" }
  | { outcome: "pending_approval" }
  | { outcome: "approved" };

export function decideActuation(input: GuardInput): GuardDecision {
  if (!input.requester.mayActuate) return { outcome: "refused", reasons: [`${input.requester.id} may not write this point`] };
  if (input.approver !== undefined && input.approver === input.requester.id) {
    return { outcome: "refused", reasons: ["a critical write needs the approval of a second person, not of its requester"] };
  }
  const reasons = limitViolations(input);
  if (reasons.length > 0) return { outcome: "refused", reasons };
  if (input.dryRun) return { outcome: "dry_run" };
  if (input.limits.critical && input.approver === undefined) return { outcome: "pending_approval" };
  return { outcome: "approved" };
}

/** Every limit the write would break, each said in words. */
export function limitViolations(input: Omit<GuardInput, "requester" | "dryRun" | "approver">): string[] {
  const { limits, value, current, dataType } = input;
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
  if (limits.minIntervalMs !== null && input.lastSentAt !== undefined) {
    const waitMs = input.lastSentAt + limits.minIntervalMs - input.now;
    if (waitMs > 0) reasons.push(`the last write was sent ${round((input.now - input.lastSentAt) / 1000)} s ago; wait ${round(waitMs / 1000)} s more`);
  }
  return reasons;
}

const round = (n: number) => Math.round(n * 1000) / 1000;
