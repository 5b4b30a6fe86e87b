import { inArray } from "drizzle-orm";
import { rules } from "../../schema/db/events.js";
import { raiseAlarm, conditionCleared, type RuleFacts } from "../alarms/alarm.service.js";
import { systemActor } from "../audit/audit.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import type { HubPubSub } from "../pubsub/pubsub.js";
import type { RuleTransition } from "../rules/evaluate.js";
import { AfterCommit, type JobEnqueuer } from "./after-commit.js";
import { machineContexts } from "./event-context.js";
import { EventWriter } from "./event.store.js";

const RETRY_DELAY_MS = 1_000;
/** Transitions waiting while the database is away; beyond this the oldest are dropped (and said so). */
const MAX_PENDING = 100_000;

/**
 * Turns rule transitions into alarms and events, a whole batch in one transaction with its audit
 * rows and planned actions; jobs and pubsub messages go out after the commit. Batches are written
 * in order, one at a time; a batch that fails (the database went away) is kept and retried.
 */
export class TransitionRecorder {
  private pending: RuleTransition[] = [];
  private running?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly queues: JobEnqueuer | undefined,
    private readonly pubsub: HubPubSub,
    private readonly log: Logger,
  ) {}

  /** Queues transitions; resolves when they (and all before them) are committed or deferred for retry. */
  record(transitions: readonly RuleTransition[]): Promise<void> {
    if (transitions.length === 0) return this.running ?? Promise.resolve();
    this.pending.push(...transitions);
    if (this.pending.length > MAX_PENDING) {
      const dropped = this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.log.error({ dropped: dropped.length }, "rule transitions dropped: the database has been away too long");
    }
    return this.drain();
  }

  /** Writes what is pending, then stops retrying. */
  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    await this.drain();
    this.closed = true;
  }

  private drain(): Promise<void> {
    return (this.running ??= (async () => {
      try {
        while (this.pending.length > 0) {
          const batch = this.pending.slice(0, 500);
          await this.write(batch);
          this.pending.splice(0, batch.length);
        }
      } catch (error) {
        this.log.error({ err: error, pending: this.pending.length }, "recording rule transitions failed; retrying");
        if (!this.closed) this.retryTimer = setTimeout(() => void this.drain(), RETRY_DELAY_MS);
      } finally {
        this.running = undefined;
      }
    })());
  }

  private async write(batch: readonly RuleTransition[]): Promise<void> {
    const after = new AfterCommit();
    const actor = systemActor("rules");
    await this.database.db.transaction(async (tx) => {
      const ruleRows = await tx
        .select({ id: rules.id, name: rules.name, kind: rules.kind, severity: rules.severity })
        .from(rules)
        .where(inArray(rules.id, [...new Set(batch.map((t) => t.ruleId))]));
      const ruleById = new Map(ruleRows.map((r) => [r.id, r]));
      const machines = await machineContexts(tx, batch.map((t) => t.machineId));
      const writer = new EventWriter(tx, after, actor);
      // Alarms go one by one (each reads and locks its alarm); plain events are written together.
      const plain: Parameters<EventWriter["recordMany"]>[0][number][] = [];
      for (const t of batch) {
        const row = ruleById.get(t.ruleId);
        const machine = machines.get(t.machineId);
        if (!row || !machine) continue; // deleted since the engine loaded it
        const rule: RuleFacts = { id: row.id, version: t.ruleVersion, name: row.name, severity: row.severity };
        const at = new Date(t.at);
        const base = { machineId: machine.id, ruleId: rule.id, ruleVersion: rule.version, severity: rule.severity, message: t.message, detail: { ...t.detail, value: t.value } };
        if (t.type === "batch_completed") {
          plain.push({ event: { ...base, kind: "batch.completed", at }, facts: { machine, ruleName: rule.name } });
        } else if (row.kind === "stale") {
          // Silence is a data-quality event, not a machine fault: no alarm, its own event kinds.
          plain.push({ event: { ...base, kind: t.type === "raised" ? "data.stale" : "data.resumed", at }, facts: { machine, ruleName: rule.name } });
        } else {
          const raise = { rule, machine, at, value: t.value, message: t.message, detail: t.detail };
          await (t.type === "raised" ? raiseAlarm(tx, writer, after, actor, raise) : conditionCleared(tx, writer, after, actor, raise));
        }
      }
      await writer.recordMany(plain);
    });
    await after.flush(this.queues, this.pubsub, this.log);
  }
}
