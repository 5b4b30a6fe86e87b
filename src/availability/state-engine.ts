import type { Sample } from "../telemetry/sample.js";
import { jobProduct, type EffectiveStateConfig } from "./state-config.js";
import { resolveState, signalOf, type ResolvedState } from "./state-resolver.js";

/** The calendar at a time: the planned stop reason (if any) and when that answer next changes. */
export type CalendarLookup = (t: number) => { reason?: string; until: number };

export interface TrackedMachine {
  id: number;
  config: EffectiveStateConfig;
  /** Data point id → name, for the points this machine has. */
  points: ReadonlyMap<number, string>;
  calendar: CalendarLookup;
}

export interface StateTransition extends ResolvedState {
  machineId: number;
  at: number;
}

export interface CountIncrement {
  machineId: number;
  at: number;
  /** The product of the job in progress, when the machine reports its job. */
  product?: string;
  produced: number;
  good: number;
  scrap: number;
}

interface Runtime {
  machine: TrackedMachine;
  current?: ResolvedState;
  /** Time up to which the state is decided; inputs older than this apply from here. */
  clock: number;
  values: Map<string, number>;
  counters: Map<string, number>;
  lastDataAt?: number;
  /** Why the source says the machine is gone (a Sparkplug death), until it is back. */
  disconnected?: string;
  task: boolean;
}

/**
 * The state machine of every tracked machine, pure: inputs with their times in, transitions and
 * count increments out. Time moves forward per machine: calendar boundaries and the offline
 * deadline between two inputs become transitions at their exact times.
 */
export class StateEngine {
  private readonly runtimes = new Map<number, Runtime>();

  constructor(private readonly offlineAfterMs: number) {}

  /** (Re)loads machines, keeping what is known of those already tracked. */
  load(machines: readonly TrackedMachine[]): void {
    const ids = new Set(machines.map((m) => m.id));
    for (const id of this.runtimes.keys()) if (!ids.has(id)) this.runtimes.delete(id);
    for (const machine of machines) {
      const runtime = this.runtimes.get(machine.id);
      if (runtime) runtime.machine = machine;
      else this.runtimes.set(machine.id, { machine, clock: Number.NEGATIVE_INFINITY, values: new Map(), counters: new Map(), task: false });
    }
  }

  /** What is already known at start: the open state, the counters' last values, tasks in progress. */
  resume(machineId: number, known: { current?: ResolvedState; since?: number; counters?: ReadonlyMap<string, number>; task?: boolean }): void {
    const runtime = this.runtimes.get(machineId);
    if (!runtime) return;
    if (known.current && known.since !== undefined) {
      runtime.current = known.current;
      runtime.clock = known.since;
    }
    for (const [name, value] of known.counters ?? []) runtime.counters.set(name, value);
    runtime.task = known.task ?? runtime.task;
  }

  machineIds(): number[] {
    return [...this.runtimes.keys()];
  }

  tracks(machineId: number): boolean {
    return this.runtimes.has(machineId);
  }

  current(machineId: number): ResolvedState | undefined {
    return this.runtimes.get(machineId)?.current;
  }

  samples(samples: readonly Sample[]): { transitions: StateTransition[]; counts: CountIncrement[] } {
    const transitions: StateTransition[] = [];
    const counts: CountIncrement[] = [];
    const byMachine = new Map<number, Sample[]>();
    for (const sample of samples) {
      if (sample.quality === "bad") continue;
      const list = byMachine.get(sample.machineId) ?? [];
      list.push(sample);
      byMachine.set(sample.machineId, list);
    }
    for (const [machineId, list] of byMachine) {
      const runtime = this.runtimes.get(machineId);
      if (!runtime) continue;
      list.sort((a, b) => a.ts - b.ts);
      // Samples of one instant apply together: a state node and a speed read at once make one transition.
      for (let i = 0; i < list.length; ) {
        const ts = list[i]!.ts;
        this.advance(runtime, ts, transitions);
        // Parts reported with a job change belong to the job that made them: the one before it.
        const jobBefore = this.product(runtime);
        const count: CountIncrement = { machineId, at: Math.max(ts, runtime.clock), produced: 0, good: 0, scrap: 0 };
        for (; i < list.length && list[i]!.ts === ts; i++) this.apply(runtime, list[i]!, count);
        const product = jobBefore ?? this.product(runtime);
        if (product !== undefined) count.product = product;
        // Without a good counter, good is what was produced and not scrapped.
        if (runtime.machine.config.counters.good === undefined) count.good = count.produced - count.scrap;
        runtime.lastDataAt = Math.max(runtime.lastDataAt ?? ts, ts);
        this.evaluate(runtime, transitions);
        if (count.produced !== 0 || count.good !== 0 || count.scrap !== 0) counts.push(count);
      }
    }
    return { transitions, counts };
  }

  /** A Sparkplug death (online false) or birth (online true). */
  connectivity(machineId: number, online: boolean, at: number, reason: string): StateTransition[] {
    return this.change(machineId, at, (r) => {
      r.disconnected = online ? undefined : reason || "disconnected";
      if (online) r.lastDataAt = Math.max(r.lastDataAt ?? at, at);
    });
  }

  task(machineId: number, inProgress: boolean, at: number): StateTransition[] {
    return this.change(machineId, at, (r) => (r.task = inProgress));
  }

  /** Moves every machine's clock to `now`: calendar boundaries and offline deadlines on the way. */
  tick(now: number): StateTransition[] {
    const transitions: StateTransition[] = [];
    for (const runtime of this.runtimes.values()) {
      this.advance(runtime, now, transitions);
      this.evaluate(runtime, transitions);
    }
    return transitions;
  }

  private change(machineId: number, at: number, mutate: (r: Runtime) => void): StateTransition[] {
    const runtime = this.runtimes.get(machineId);
    if (!runtime) return [];
    const transitions: StateTransition[] = [];
    this.advance(runtime, at, transitions);
    mutate(runtime);
    this.evaluate(runtime, transitions);
    return transitions;
  }

  private apply(runtime: Runtime, sample: Sample, count: CountIncrement): void {
    const name = runtime.machine.points.get(sample.dataPointId);
    if (name === undefined) return;
    runtime.values.set(name, sample.value);
    const { counters } = runtime.machine.config;
    for (const kind of ["produced", "good", "scrap"] as const) {
      if (counters[kind] !== name) continue;
      const previous = runtime.counters.get(name);
      runtime.counters.set(name, sample.value);
      if (previous === undefined) continue; // the first value is the baseline
      // A counter that went down was reset: it counted from zero since.
      count[kind] += sample.value >= previous ? sample.value - previous : sample.value;
    }
  }

  /** The product of the job the machine reports, if it reports one. */
  private product(runtime: Runtime): string | undefined {
    const { job } = runtime.machine.config;
    const value = job && runtime.values.get(job.product);
    return job && value !== undefined ? jobProduct(job, value) : undefined;
  }

  private advance(runtime: Runtime, to: number, transitions: StateTransition[]): void {
    if (runtime.clock === Number.NEGATIVE_INFINITY) {
      runtime.clock = to;
      return;
    }
    for (;;) {
      const next = Math.min(runtime.machine.calendar(runtime.clock).until, this.offlineDeadline(runtime));
      if (next > to) break;
      runtime.clock = next;
      this.evaluate(runtime, transitions);
    }
    runtime.clock = Math.max(runtime.clock, to);
  }

  private offlineDeadline(runtime: Runtime): number {
    if (runtime.lastDataAt === undefined || runtime.disconnected !== undefined) return Number.POSITIVE_INFINITY;
    const deadline = runtime.lastDataAt + this.offlineAfterMs;
    return deadline > runtime.clock ? deadline : Number.POSITIVE_INFINITY;
  }

  private evaluate(runtime: Runtime, transitions: StateTransition[]): void {
    const at = runtime.clock;
    const stale = runtime.lastDataAt === undefined || at - runtime.lastDataAt >= this.offlineAfterMs;
    const next = resolveState({
      plannedStop: runtime.machine.calendar(at).reason,
      task: runtime.task,
      offline: runtime.disconnected ?? (stale ? "no_data" : undefined),
      signal: signalOf(runtime.machine.config.sources, runtime.values),
    });
    const current = runtime.current;
    // Offline is offline whatever the cause: a restart's gap turning into "no data" is no new interval.
    if (current && current.state === next.state && (current.reason === next.reason || next.state === "offline")) return;
    runtime.current = next;
    const previous = transitions.at(-1);
    const transition = { machineId: runtime.machine.id, at, ...next };
    // Two changes at one instant: the later one is the state from that instant on.
    if (previous && previous.machineId === transition.machineId && previous.at === at) transitions[transitions.length - 1] = transition;
    else transitions.push(transition);
  }
}
