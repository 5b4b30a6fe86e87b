import type { Sample } from "../telemetry/sample.js";
import { evaluate, seedState, type RuleDefinition, type RuleInput, type RuleTransition } from "./evaluate.js";
import { initialState, type RuleState } from "./rule-state.js";

interface Entry {
  rule: RuleDefinition;
  state: RuleState;
}

/** A reused sample input: the hot path builds no object per sample and rule. */
interface MutableSample {
  type: "sample";
  ts: number;
  value: number;
  quality: Sample["quality"];
}

/**
 * The rules of one process in memory, each with its evaluator state. Samples reach the rules of
 * their data point in time order; `tick` drives time-based confirmations and stale data. Holds no
 * I/O: the caller persists nothing, records the transitions and seeds history after a restart.
 */
export class RuleEngine {
  private entries = new Map<number, Entry>();
  private byDataPoint = new Map<number, Entry[]>();
  private readonly input: MutableSample = { type: "sample", ts: 0, value: 0, quality: "good" };

  /**
   * Replaces the rule set. A rule whose id and version are unchanged keeps its state (a reload is
   * invisible to it); a changed version starts from its initial state; a removed rule is dropped.
   */
  load(rules: readonly RuleDefinition[]): void {
    const entries = new Map<number, Entry>();
    const byDataPoint = new Map<number, Entry[]>();
    for (const rule of rules) {
      const kept = this.entries.get(rule.id);
      const same = kept !== undefined && kept.rule.version === rule.version && kept.rule.params.kind === rule.params.kind;
      const entry: Entry = same ? { rule: { ...rule, metric: rule.metric ?? kept.rule.metric }, state: kept.state } : { rule, state: initialState(rule.params) };
      entries.set(rule.id, entry);
      const list = byDataPoint.get(rule.dataPointId);
      if (list) list.push(entry);
      else byDataPoint.set(rule.dataPointId, [entry]);
    }
    this.entries = entries;
    this.byDataPoint = byDataPoint;
  }

  /** Feeds history into one rule without transitions (see `seedState`). Unknown rule ids are ignored. */
  seedHistory(ruleId: number, samples: readonly { ts: number; value: number }[]): void {
    const entry = this.entries.get(ruleId);
    if (entry) entry.state = seedState(entry.rule, entry.state, samples);
  }

  /** Evaluates every sample against the rules of its data point, in time order; `now` is each sample's ts. */
  onSamples(samples: readonly Sample[]): RuleTransition[] {
    const transitions: RuleTransition[] = [];
    const input = this.input;
    for (const sample of inTimeOrder(samples)) {
      const entries = this.byDataPoint.get(sample.dataPointId);
      if (entries === undefined) continue;
      input.ts = sample.ts;
      input.value = sample.value;
      input.quality = sample.quality;
      for (const entry of entries) {
        if (entry.rule.metric === undefined) entry.rule = { ...entry.rule, metric: sample.metric };
        this.apply(entry, input, sample.ts, transitions);
      }
    }
    return transitions;
  }

  /** Advances every rule to `now` (epoch ms): confirmations that have waited long enough complete, stale data raises. */
  tick(now: number): RuleTransition[] {
    const transitions: RuleTransition[] = [];
    for (const entry of this.entries.values()) this.apply(entry, TICK, now, transitions);
    return transitions;
  }

  /** A deep copy of the rule's state, for inspection; undefined for an unknown rule. */
  snapshot(ruleId: number): RuleState | undefined {
    const entry = this.entries.get(ruleId);
    return entry && structuredClone(entry.state);
  }

  private apply(entry: Entry, input: RuleInput, now: number, out: RuleTransition[]): void {
    const result = evaluate(entry.rule, entry.state, input, now);
    entry.state = result.state;
    if (result.transition) out.push(result.transition);
  }
}

const TICK: RuleInput = { type: "tick" };

/** The samples as given when already in ts order (the usual case); otherwise one sorted copy per batch. */
function inTimeOrder(samples: readonly Sample[]): readonly Sample[] {
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.ts < samples[i - 1]!.ts) return [...samples].sort((a, b) => a.ts - b.ts);
  }
  return samples;
}
