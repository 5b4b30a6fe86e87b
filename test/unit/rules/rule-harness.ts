import type { z } from "zod";
import type { Quality } from "../../../src/telemetry/sample.js";
import { evaluate, type RuleDefinition, type RuleTransition } from "../../../src/rules/evaluate.js";
import { initialState, type Phase, type RuleState } from "../../../src/rules/rule-state.js";
import { ruleParams } from "../../../src/rules/rule.schema.js";

/** Test time zero; steps give seconds after it. */
export const T0 = Date.parse("2026-11-01T00:00:00.000Z");
export const at = (seconds: number): number => T0 + seconds * 1000;

export function ruleOf(params: z.input<typeof ruleParams>, metric = "temperature"): RuleDefinition {
  return { id: 7, version: 1, machineId: 3, dataPointId: 42, severity: "warning", metric, params: ruleParams.parse(params) };
}

export type Step = { sample: [seconds: number, value: number, quality?: Quality] } | { tick: number };
export const sample = (seconds: number, value: number, quality: Quality = "good"): Step => ({ sample: [seconds, value, quality] });
export const tick = (seconds: number): Step => ({ tick: seconds });
/** One sample every `every` seconds from `start`, with the values given. */
export const series = (start: number, every: number, values: readonly number[]): Step[] => values.map((v, i) => sample(start + i * every, v));

export interface Run {
  state: RuleState;
  transitions: RuleTransition[];
  /** The phase after each step. */
  phases: Phase[];
}

/** Feeds the steps through `evaluate` (a sample's `now` is its own ts, as the engine does). */
export function run(rule: RuleDefinition, steps: readonly Step[], from: RuleState = initialState(rule.params)): Run {
  let state = from;
  const transitions: RuleTransition[] = [];
  const phases: Phase[] = [];
  for (const step of steps) {
    const result =
      "tick" in step
        ? evaluate(rule, state, { type: "tick" }, at(step.tick))
        : evaluate(rule, state, { type: "sample", ts: at(step.sample[0]), value: step.sample[1], quality: step.sample[2] ?? "good" }, at(step.sample[0]));
    state = result.state;
    if (result.transition) transitions.push(result.transition);
    phases.push(state.phase);
  }
  return { state, transitions, phases };
}

/** "raised@40" per transition: the type and the second it happened. */
export const timeline = (transitions: readonly RuleTransition[]): string[] => transitions.map((t) => `${t.type}@${(t.at - T0) / 1000}`);
