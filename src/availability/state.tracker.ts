import { inArray } from "drizzle-orm";
import { dataPoints, machines as machineTable } from "../../schema/db/assets.js";
import { systemActor } from "../audit/audit.js";
import type { Bus } from "../bus/bus.js";
import { calendarLookup, machineCalendars } from "../calendar/calendar.service.js";
import type { Database } from "../db/database.js";
import { rawSql } from "../db/raw-sql.js";
import { AfterCommit, type JobEnqueuer } from "../events/after-commit.js";
import { machineContexts } from "../events/event-context.js";
import { EventWriter } from "../events/event.store.js";
import type { Logger } from "../log/logger.js";
import { applyProgress } from "../orders/order.service.js";
import { stateConfigs } from "./state-config.service.js";
import type { HubPubSub, Topics } from "../pubsub/pubsub.js";
import { machinesInMaintenance } from "../tasks/task.service.js";
import type { Sample } from "../telemetry/sample.js";
import type { EffectiveStateConfig } from "./state-config.js";
import { StateEngine, type CountIncrement, type StateTransition, type TrackedMachine } from "./state-engine.js";
import { applyTransitions, confirmOpenIntervals, openIntervals, recordProduction } from "./state.store.js";

const TICK_MS = 5_000;
const RETRY_DELAY_MS = 1_000;
const MAX_PENDING = 100_000;

export interface StateTrackerOptions {
  offlineAfterMs: number;
  /** Run the timers (tick, reloads on pubsub); tests drive the tracker by hand instead. */
  timers?: boolean;
}

/**
 * Turns telemetry, Sparkplug connectivity, tasks and the shift calendar into machine state
 * intervals and production counts (ingest role). Inputs go through the pure StateEngine; its
 * transitions and counts are written in order, one transaction per batch with the events they
 * raise; MACHINE_STATE_CHANGED goes out after the commit. A batch that fails is retried.
 *
 * Restarts: every tick records how long the open intervals held (confirmed_until). At start the
 * open interval of each machine ends there and an `offline` interval (reason hub_restart) fills
 * the gap until data arrives, the calendar's planned stops included, so intervals tile time
 * across restarts and crashes.
 */
export class StateTracker {
  private readonly engine: StateEngine;
  private configs = new Map<number, EffectiveStateConfig>();
  private idsByPath = new Map<string, number>();
  private pending: { transitions: StateTransition[]; counts: CountIncrement[]; confirmAt?: number } = { transitions: [], counts: [] };
  private running?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly stops: (() => void | Promise<void>)[] = [];
  /** Machines whose tasks changed since the last lookup, with the latest change time. */
  private readonly tasksChanged = new Map<number, number>();
  private refreshingTasks?: Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly pubsub: HubPubSub,
    private readonly queues: JobEnqueuer | undefined,
    private readonly log: Logger,
    private readonly options: StateTrackerOptions,
  ) {
    this.engine = new StateEngine(options.offlineAfterMs);
  }

  async start(now = Date.now()): Promise<void> {
    await this.reload();
    await this.recover(now);
    this.stops.push(this.bus.on("state-tracker", "samplesStored", (samples) => this.samples(samples)));
    this.stops.push(this.bus.on("state-tracker", "machineConnectivity", (c) => this.connectivity(c.machineId, c.online, c.at.getTime(), c.reason)));
    if (this.options.timers === false) return;
    this.timer = setInterval(() => void this.tick(Date.now()), TICK_MS);
    this.listen("TASK_CHANGED", async (change) => {
      if (change.machineId !== null) this.taskChanged(change.machineId, Date.parse(change.at));
    });
    this.listen("ASSETS_CHANGED", () => this.reload());
    this.listen("PLANNING_CHANGED", () => this.reload());
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    for (const stop of this.stops.splice(0)) await stop();
    await this.refreshingTasks;
    await this.drain();
    this.closed = true;
  }

  /** Loads the machines, their state configs and calendars; keeps what the engine knows of each. */
  async reload(): Promise<void> {
    try {
      const db = this.database.db;
      const calendars = await machineCalendars(db);
      const ids = [...calendars.keys()];
      const [configs, points] = await Promise.all([stateConfigs(db, ids), ids.length === 0 ? [] : db.select({ id: dataPoints.id, machineId: dataPoints.machineId, name: dataPoints.name }).from(dataPoints).where(inArray(dataPoints.machineId, ids))]);
      const pointsOf = new Map<number, Map<number, string>>();
      for (const p of points) pointsOf.set(p.machineId, (pointsOf.get(p.machineId) ?? new Map()).set(p.id, p.name));
      this.configs = configs;
      this.idsByPath = new Map((await db.select({ id: machineTable.id, path: machineTable.path }).from(machineTable)).map((m) => [m.path, m.id]));
      const machines: TrackedMachine[] = ids.map((id) => ({ id, config: configs.get(id)!, points: pointsOf.get(id) ?? new Map(), calendar: calendarLookup(calendars.get(id)!) }));
      this.engine.load(machines);
    } catch (error) {
      this.log.error({ err: error }, "loading machine state configs failed; keeping those loaded before");
    }
  }

  samples(samples: readonly Sample[]): Promise<void> {
    const { transitions, counts } = this.engine.samples(samples);
    return this.queue(transitions, counts);
  }

  /** `machineId`: the machine's database id as a string, or its path. */
  connectivity(machineId: string, online: boolean, at: number, reason: string): Promise<void> {
    const id = /^\d+$/.test(machineId) ? Number(machineId) : this.idsByPath.get(machineId);
    if (id === undefined || !this.engine.tracks(id)) {
      this.log.warn({ machineId }, "connectivity of an unknown machine id ignored");
      return Promise.resolve();
    }
    return this.queue(this.engine.connectivity(id, online, at, reason), []);
  }

  task(machineId: number, inProgress: boolean, at: number): Promise<void> {
    return this.queue(this.engine.task(machineId, inProgress, at), []);
  }

  /** Moves time on (calendar boundaries, offline deadlines) and records that open intervals still hold. */
  tick(now: number): Promise<void> {
    this.pending.confirmAt = now;
    return this.queue(this.engine.tick(now), []);
  }

  /** Resolves when everything queued so far is written (or deferred for a retry). */
  flush(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /**
   * Coalesced by machine: a burst of task changes (thousands of tickets created) costs one lookup
   * per machine, and the feed is drained at once, never left to back up.
   */
  private taskChanged(machineId: number, at: number): void {
    this.tasksChanged.set(machineId, Math.max(at, this.tasksChanged.get(machineId) ?? at));
    this.refreshingTasks ??= (async () => {
      try {
        while (this.tasksChanged.size > 0) {
          const changed = new Map(this.tasksChanged);
          this.tasksChanged.clear();
          const busy = await machinesInMaintenance(this.database.db, [...changed.keys()]);
          for (const [id, when] of changed) await this.task(id, busy.has(id), when);
        }
      } catch (error) {
        this.log.error({ err: error }, "state tracker: task changes not applied");
      } finally {
        // Whatever happened, the next change starts a new round.
        this.refreshingTasks = undefined;
      }
    })();
  }

  private async recover(now: number): Promise<void> {
    const db = this.database.db;
    const open = await openIntervals(db);
    const resumed = open.map((i) => ({ machineId: i.machineId, at: Math.min(now, Math.max(i.startedAt, i.confirmedUntil ?? i.startedAt)), state: "offline" as const, reason: "hub_restart", source: "restart" }));
    await this.queue(resumed.filter((t) => this.engine.current(t.machineId) === undefined), []);
    const ids = open.map((i) => i.machineId);
    const [busy, counters] = await Promise.all([machinesInMaintenance(db, ids), this.lastCounterValues()]);
    for (const t of resumed) this.engine.resume(t.machineId, { current: t, since: t.at, counters: counters.get(t.machineId), task: busy.has(t.machineId) });
    // Machines never seen before start with what they have: counters from their last readings.
    for (const [machineId, values] of counters) if (!ids.includes(machineId)) this.engine.resume(machineId, { counters: values });
  }

  /** The last stored value of every counter point, so counting resumes without a gap. */
  private async lastCounterValues(): Promise<Map<number, Map<string, number>>> {
    const wanted = new Map<number, { machineId: number; name: string }>();
    const pointIds = await this.database.db.select({ id: dataPoints.id, machineId: dataPoints.machineId, name: dataPoints.name }).from(dataPoints);
    for (const p of pointIds) {
      const counters = this.configs.get(p.machineId)?.counters;
      if (counters && Object.values(counters).includes(p.name)) wanted.set(p.id, { machineId: p.machineId, name: p.name });
    }
    const out = new Map<number, Map<string, number>>();
    if (wanted.size === 0) return out;
    const result = await this.database.db.execute(
      rawSql(`select p.id, t.value from unnest($1::int4[]) as p(id) cross join lateral (select value from telemetry where data_point_id = p.id order by ts desc limit 1) t`, [[...wanted.keys()]]),
    );
    for (const row of (result as unknown as { rows: { id: number; value: number }[] }).rows) {
      const point = wanted.get(row.id)!;
      out.set(point.machineId, (out.get(point.machineId) ?? new Map()).set(point.name, Number(row.value)));
    }
    return out;
  }

  private listen<K extends "TASK_CHANGED" | "ASSETS_CHANGED" | "PLANNING_CHANGED">(topic: K, fn: (payload: Topics[K][0]) => Promise<void>): void {
    const feed = (this.pubsub.subscribe as (t: K) => AsyncGenerator<Topics[K][0]>)(topic);
    const listening = (async () => {
      for await (const payload of feed) await fn(payload).catch((error: unknown) => this.log.error({ err: error, topic }, "state tracker listener failed"));
    })();
    this.stops.push(async () => {
      await feed.return(undefined);
      await listening;
    });
  }

  private queue(transitions: readonly StateTransition[], counts: readonly CountIncrement[]): Promise<void> {
    this.pending.transitions.push(...transitions);
    this.pending.counts.push(...counts);
    const size = this.pending.transitions.length + this.pending.counts.length;
    if (size > MAX_PENDING) {
      this.pending.counts.splice(0, size - MAX_PENDING);
      this.log.error("production counts dropped: the database has been away too long");
    }
    return this.drain();
  }

  private drain(): Promise<void> {
    // The loop ends asynchronously, so `running` is set before it is cleared; what arrived meanwhile starts the next one.
    return (this.running ??= this.writePending().then((written) => {
      this.running = undefined;
      if (written && !this.closed && this.hasPending()) void this.drain();
    }));
  }

  private hasPending(): boolean {
    return this.pending.transitions.length > 0 || this.pending.counts.length > 0 || this.pending.confirmAt !== undefined;
  }

  /** False when a write failed and a retry is scheduled. */
  private async writePending(): Promise<boolean> {
    try {
      while (this.hasPending()) {
        const batch = this.pending;
        this.pending = { transitions: [], counts: [] };
        try {
          await this.write(batch.transitions, batch.counts, batch.confirmAt);
        } catch (error) {
          // Back in front: intervals must be written in order.
          this.pending = { transitions: [...batch.transitions, ...this.pending.transitions], counts: [...batch.counts, ...this.pending.counts], confirmAt: this.pending.confirmAt ?? batch.confirmAt };
          throw error;
        }
      }
      return true;
    } catch (error) {
      this.log.error({ err: error }, "recording machine states failed; retrying");
      clearTimeout(this.retryTimer);
      if (!this.closed) this.retryTimer = setTimeout(() => void this.drain(), RETRY_DELAY_MS);
      return false;
    }
  }

  private async write(transitions: StateTransition[], counts: CountIncrement[], confirmAt?: number): Promise<void> {
    const after = new AfterCommit();
    await this.database.db.transaction(async (tx) => {
      const writer = new EventWriter(tx, after, systemActor("state-tracker"));
      const opened = await applyTransitions(tx, transitions, (id) => this.configs.get(id)?.minorStopSeconds);
      await recordProduction(tx, await applyProgress(tx, writer, counts, this.configs));
      if (confirmAt !== undefined) await confirmOpenIntervals(tx, this.engine.machineIds(), confirmAt);
      // The task path records its own maintenance events.
      const recorded = opened.filter((i) => i.source !== "task");
      const machines = await machineContexts(tx, recorded.map((i) => i.machineId));
      await writer.recordMany(
        recorded.flatMap((i) => {
          const machine = machines.get(i.machineId);
          if (!machine) return [];
          return [{
            event: { kind: "machine.state_changed" as const, at: new Date(i.startedAt), machineId: i.machineId, severity: "info" as const, message: `${machine.name} ${i.state}${i.reason ? ` (${i.reason})` : ""}`, detail: { state: i.state, reason: i.reason, source: i.source, intervalId: i.id } },
            facts: { machine, state: i.state },
          }];
        }),
      );
      for (const i of opened) after.publish("MACHINE_STATE_CHANGED", { machineId: i.machineId, intervalId: i.id, state: i.state, reason: i.reason, source: i.source, since: new Date(i.startedAt).toISOString() });
    });
    await after.flush(this.queues, this.pubsub, this.log);
  }
}
