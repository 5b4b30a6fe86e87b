import DataLoader from "dataloader";
import { and, eq, inArray, sql } from "drizzle-orm";
import { alarms, eventActions, events, rules } from "../../schema/db/events.js";
import { integrations } from "../../schema/db/security.js";
import type { TemplateContext } from "../automations/template.js";
import type { Database, Db, DbOrTx } from "../db/database.js";
import { AfterCommit, type JobEnqueuer } from "../events/after-commit.js";
import { machineContexts } from "../events/event-context.js";
import type { IntegrationRow } from "../integrations/integration.service.js";
import type { Logger } from "../log/logger.js";
import type { HubPubSub } from "../pubsub/pubsub.js";
import { recordTasks, type CreatedTask, type TaskRow } from "../tasks/task.service.js";

/** What a run needs of its action row. */
export type ClaimedAction = Pick<typeof eventActions.$inferSelect, "id" | "eventId" | "integrationId" | "actionKey" | "spec" | "attempts" | "errorKind">;
export type EventRow = typeof events.$inferSelect;

export interface ActionSubject {
  event: EventRow;
  /** What templates can name: event, machine, rule, alarm. */
  context: TemplateContext;
}

/** A created task to record, and its action to mark done, in one shared transaction. */
export interface ActionCompletion extends CreatedTask {
  eventActionId: number;
}

/**
 * Counts the attempt of every pending action asked for. The count is bookkeeping (a run that
 * crashed is also told by its job's start count), so this commit does not wait for the WAL flush:
 * the claim costs a round trip, not an fsync. set_config(..., true) lasts to the end of the
 * statement's own transaction, which is when the commit reads it.
 */
const CLAIM = `
with no_flush_wait as (select set_config('synchronous_commit', 'off', true))
update event_action set attempts = attempts + 1, updated_at = now()
from no_flush_wait
where id = any($1::int8[]) and status = 'pending'
returning id::float8 as "id", event_id::float8 as "eventId", integration_id as "integrationId", action_key as "actionKey", spec, attempts, error_kind as "errorKind"`;

/**
 * The actions a worker runs at once share their database round trips: claims, reads and the
 * closing transactions of the jobs that reach the same step within one turn of the event loop go
 * to PostgreSQL as one statement each (DataLoader's batching; nothing is cached). A lone job
 * costs what it did before; a busy queue pays a handful of statements per batch, not per job.
 */
export class ActionBatches {
  /** Claims pending actions (their attempt counted); a done, dead or missing one comes back undefined. */
  readonly claims: DataLoader<number, ClaimedAction | undefined>;
  readonly integrations: DataLoader<number, IntegrationRow | undefined>;
  /** The event of an action and what its templates can name, by event id. */
  readonly subjects: DataLoader<number, ActionSubject | undefined>;
  /** Records created tasks and marks their actions done; resolves after the commit and its publishes. */
  readonly completions: DataLoader<ActionCompletion, TaskRow>;
  /** When each integration's health was last noted by this process. */
  private readonly notedAt = new Map<number, number>();

  private readonly db: Db;

  constructor(database: Database, deps: { queues: JobEnqueuer | undefined; pubsub: HubPubSub; log: Logger; actor: string }) {
    const db = (this.db = database.db);
    const batched = { cache: false, batchScheduleFn: (run: () => void) => setImmediate(run) } as const;
    this.claims = new DataLoader(async (ids) => byId(ids, (await database.query<ClaimedAction>(CLAIM, [ids])).rows), batched);
    this.integrations = new DataLoader(async (ids) => byId(ids, await db.select().from(integrations).where(inArray(integrations.id, [...ids]))), batched);
    this.subjects = new DataLoader(async (ids) => {
      const rows = await db.select().from(events).where(inArray(events.id, [...ids]));
      const contexts = await templateContexts(db, rows);
      return ids.map((id) => {
        const event = rows.find((r) => r.id === id);
        return event && { event, context: contexts.get(id)! };
      });
    }, batched);
    this.completions = new DataLoader(async (done) => {
      const after = new AfterCommit();
      const rows = await db.transaction(async (tx) => {
        const recorded = await recordTasks(tx, after, deps.actor, done);
        await markDone(tx, done.map((d) => d.eventActionId));
        return recorded;
      });
      await after.flush(deps.queues, deps.pubsub, deps.log);
      return rows;
    }, batched);
  }

  /**
   * Health is "last success", not a counter: written at most once a second per integration, so
   * concurrent actions neither queue on its row lock nor pay a statement each.
   */
  async noteSuccess(integrationId: number): Promise<void> {
    const now = Date.now();
    if (now - (this.notedAt.get(integrationId) ?? 0) < 1_000) return;
    this.notedAt.set(integrationId, now);
    await this.db
      .update(integrations)
      .set({ lastSuccessAt: sql`now()` })
      .where(and(eq(integrations.id, integrationId), sql`(${integrations.lastSuccessAt} is null or ${integrations.lastSuccessAt} < now() - interval '1 second')`));
  }
}

export function markDone(db: Pick<DbOrTx, "update">, ids: readonly number[]) {
  return db
    .update(eventActions)
    .set({ status: "done", doneAt: sql`now()`, updatedAt: sql`now()`, errorKind: null, lastError: null })
    .where(inArray(eventActions.id, [...ids]));
}

function byId<Row extends { id: number }>(ids: readonly number[], rows: readonly Row[]): (Row | undefined)[] {
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id));
}

/** Template contexts of several events: a query each for machines, rules and alarms. */
async function templateContexts(db: Db, rows: readonly EventRow[]): Promise<Map<number, TemplateContext>> {
  const ids = <K extends "machineId" | "ruleId" | "alarmId">(key: K) => [...new Set(rows.flatMap((r) => (r[key] === null ? [] : [r[key]!])))];
  const [machines, ruleRows, alarmRows] = await Promise.all([
    machineContexts(db, ids("machineId")),
    ids("ruleId").length === 0 ? [] : db.select({ id: rules.id, name: rules.name, kind: rules.kind, version: rules.version }).from(rules).where(inArray(rules.id, ids("ruleId"))),
    ids("alarmId").length === 0
      ? []
      : db.select({ id: alarms.id, state: alarms.state, message: alarms.message, value: alarms.value, raisedAt: alarms.raisedAt }).from(alarms).where(inArray(alarms.id, ids("alarmId"))),
  ]);
  const ruleById = new Map(ruleRows.map((r) => [r.id, r]));
  const alarmById = new Map(alarmRows.map((a) => [a.id, a]));
  return new Map(
    rows.map((event) => {
      const machine = event.machineId === null ? undefined : machines.get(event.machineId);
      const rule = event.ruleId === null ? undefined : ruleById.get(event.ruleId);
      const context: TemplateContext = {
        event: { id: event.id, kind: event.kind, at: event.at, severity: event.severity, message: event.message, detail: event.detail, value: event.detail.value },
        machine: machine ? { ...machine, displayName: machine.displayName ?? machine.name } : undefined,
        rule: rule ? { ...rule, version: event.ruleVersion ?? rule.version } : undefined,
        alarm: event.alarmId === null ? undefined : alarmById.get(event.alarmId),
      };
      return [event.id, context];
    }),
  );
}
