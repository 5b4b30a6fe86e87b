import type { LatestValue } from "./latest-values.js";

export const machineStates = ["running", "idle", "down", "maintenance", "setup", "offline", "planned_stop"] as const;
export type MachineState = (typeof machineStates)[number];

/**
 * The state telemetry alone can tell: offline when nothing arrived within `offlineAfterMs`,
 * idle when a `speed` metric reads zero, running otherwise. Richer sources (PLC state nodes,
 * tickets, the shift calendar) refine this later.
 */
export function deriveMachineState(
  latestByMetric: ReadonlyMap<string, LatestValue>,
  now: number,
  offlineAfterMs: number,
): MachineState {
  const newest = Math.max(...[...latestByMetric.values()].map((v) => v.ts.getTime()), Number.NEGATIVE_INFINITY);
  if (now - newest > offlineAfterMs) return "offline";
  const speed = latestByMetric.get("speed");
  if (speed && now - speed.ts.getTime() <= offlineAfterMs && speed.value <= 0) return "idle";
  return "running";
}
