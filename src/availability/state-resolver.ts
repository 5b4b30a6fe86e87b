import type { MachineState } from "../../schema/db/availability.js";
import type { StateSource } from "./state-config.js";

/** A state with the reason and the source that decided it. */
export interface ResolvedState {
  state: MachineState;
  reason: string;
  source: string;
}

/** What the machine itself says (from its mapped data points). */
export type Signal = ResolvedState;

export interface StateInputs {
  /** The calendar's planned stop reason at this time, if any. */
  plannedStop?: string;
  /** A task of the machine is in progress. */
  task: boolean;
  /** Why the machine is offline (no data, a Sparkplug death), if it is. */
  offline?: string;
  signal: Signal;
}

/**
 * The precedence of state sources, highest first:
 * 1. a planned stop of the calendar, unless the machine is running (production in a break counts);
 * 2. a task in progress: maintenance;
 * 3. no data or a Sparkplug death: offline;
 * 4. the machine's own signal (state node, status code, speed).
 */
export function resolveState(inputs: StateInputs): ResolvedState {
  const running = inputs.signal.state === "running" && inputs.offline === undefined;
  if (inputs.plannedStop !== undefined && !running) return { state: "planned_stop", reason: inputs.plannedStop, source: "calendar" };
  if (inputs.task) return { state: "maintenance", reason: "task", source: "task" };
  if (inputs.offline !== undefined) return { state: "offline", reason: inputs.offline, source: "connectivity" };
  return inputs.signal;
}

/**
 * The signal of the latest values: the first source (in configured order) whose value maps to a
 * state. No sources: running while data arrives. Sources without a mapped value yet: idle.
 */
export function signalOf(sources: readonly StateSource[], values: ReadonlyMap<string, number>): Signal {
  if (sources.length === 0) return { state: "running", reason: "", source: "data" };
  for (const source of sources) {
    const value = values.get(source.point);
    if (value === undefined) continue;
    if ("runningAbove" in source) return { state: value > source.runningAbove ? "running" : "idle", reason: "", source: source.point };
    const mapped = source.map[String(value)] ?? source.map[value === 1 ? "true" : value === 0 ? "false" : ""] ?? source.otherwise;
    if (mapped === undefined) continue;
    return typeof mapped === "string" ? { state: mapped, reason: "", source: source.point } : { state: mapped.state, reason: mapped.reason ?? "", source: source.point };
  }
  return { state: "idle", reason: "", source: "default" };
}
