import type { LatestValue } from "./latest-values.js";

export { machineStates, type MachineState } from "../../schema/db/availability.js";
import type { MachineState } from "../../schema/db/availability.js";

/**
 * The state telemetry alone can tell: offline when nothing arrived within `offlineAfterMs`,
 * idle when a `speed` metric reads zero, running otherwise. The fallback before the state tracker
 * (src/availability) has recorded an interval for the machine.
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
