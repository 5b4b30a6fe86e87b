import { UnrecoverableError, Worker } from "bullmq";
import { and, eq, inArray, sql } from "drizzle-orm";
import { ConnectorError, isConnectorError } from "../../connectors/sdk/errors.js";
import type { AnyConnector, TaskDraft, TaskPriority } from "../../connectors/sdk/types.js";
import { eventActions } from "../../schema/db/events.js";
import { integrations } from "../../schema/db/security.js";
import { tasks } from "../../schema/db/tasks.js";
import { recordAudit, systemActor } from "../audit/audit.js";
import { automationAction, type AutomationAction } from "../automations/automation.schema.js";
import { renderTemplate, type TemplateContext } from "../automations/template.js";
import { AfterCommit } from "../events/after-commit.js";
import { connectorContext, IntegrationConfigError, prepareIntegration } from "../integrations/connector-config.js";
import { applyStatusChange } from "../tasks/task.service.js";
import { markDone, type ClaimedAction, type EventRow } from "./action-batches.js";
import { isLastAttempt, type HandlerRun } from "./handler.js";

const actor = systemActor("worker");

/**
 * Carries out one planned action. Idempotent: a done action is skipped, a created task is found
 * in the database, and from the second attempt on the tool is searched by key before creating.
 * Error kinds decide the queue semantics: rate_limited pauses the queue for Retry-After,
 * auth/not_found/rejected (and a broken config) dead-letter at once, anything else retries.
 */
export async function runAction({ data, job, worker, deps }: HandlerRun<"action.run">): Promise<string> {
  const batches = deps.actions;
  const claimed = await batches.claims.load(data.eventActionId);
  if (!claimed) return "not pending";
  try {
    const [row, subject] = await Promise.all([batches.integrations.load(claimed.integrationId), batches.subjects.load(claimed.eventId)]);
    if (!row) throw new IntegrationConfigError(`integration ${claimed.integrationId} no longer exists`);
    const ready = prepareIntegration(deps.box, row);
    const action = automationAction.parse(claimed.spec);
    const ctx = connectorContext(deps.log.child({ integration: ready.row.name, eventActionId: claimed.id }));
    // A first try cannot find a task of its own; later ones (retry, replay, a crashed run) look first.
    const retry = claimed.attempts > 1 || claimed.errorKind !== null || job.attemptsStarted > 1;
    const outcome = await perform(deps, { action, claimed, retry, event: subject!.event, context: subject!.context, connector: ready.connector, config: ready.config, ctx });
    await batches.noteSuccess(claimed.integrationId);
    return outcome;
  } catch (error) {
    return failed(deps, { job, worker, claimed, error });
  }
}

interface Performing {
  action: AutomationAction;
  claimed: ClaimedAction;
  /** Not the first run of this action: the tool may hold its task already. */
  retry: boolean;
  event: EventRow;
  context: TemplateContext;
  connector: AnyConnector;
  config: unknown;
  ctx: ReturnType<typeof connectorContext>;
}

async function perform(deps: HandlerRun<"action.run">["deps"], p: Performing): Promise<string> {
  const { action, claimed, retry, event, context, connector, config, ctx } = p;
  const { db } = deps.database;
  const after = new AfterCommit();
  switch (action.type) {
    case "create_task": {
      const [existing] = retry
        ? await db
              .select({ id: tasks.id })
              .from(tasks)
              .where(and(eq(tasks.integrationId, claimed.integrationId), eq(tasks.eventId, claimed.eventId), eq(tasks.actionKey, claimed.actionKey)))
          : [];
      if (!existing) {
        if (!connector.createTask) throw new ConnectorError("rejected", `${connector.kind} cannot create tasks`);
        const draft = taskDraft(action, claimed, event, context);
        // A crash after the tool created the task but before our commit: the second attempt finds it.
        const found = retry && connector.findTask ? await connector.findTask(config, draft.key, ctx) : undefined;
        const external = found ?? (await connector.createTask(config, draft, ctx));
        const task = { integrationId: claimed.integrationId, eventId: event.id, actionKey: claimed.actionKey, eventActionId: claimed.id, machineId: event.machineId, alarmId: event.alarmId, idempotencyKey: draft.key, title: draft.title, assignee: draft.assignee };
        await deps.actions.completions.load({ eventActionId: claimed.id, task, external, found: found !== undefined });
      } else await markDone(db, [claimed.id]);
      break;
    }
    case "notify": {
      if (!connector.notify) throw new ConnectorError("rejected", `${connector.kind} cannot send notifications`);
      const severity = event.severity;
      await connector.notify(config, { key: idempotencyKey(claimed), title: renderTemplate(action.title, context), text: renderTemplate(action.text, context), severity, facts: facts(context) }, ctx);
      await db.transaction(async (tx) => {
        await recordAudit(tx, { actor, action: "notification.sent", entityType: "event_action", entityId: claimed.id, newValue: { integrationId: claimed.integrationId, eventId: event.id, title: renderTemplate(action.title, context) } });
        await markDone(tx, [claimed.id]);
      });
      break;
    }
    case "close_task":
    case "comment_task": {
      if (!connector.updateTask) throw new ConnectorError("rejected", `${connector.kind} cannot update tasks`);
      const alarmTasks = event.alarmId === null ? [] : await db.select().from(tasks).where(and(eq(tasks.alarmId, event.alarmId), eq(tasks.integrationId, claimed.integrationId), inArray(tasks.status, ["open", "in_progress"])));
      for (const task of alarmTasks) {
        const comment = action.comment === undefined ? undefined : renderTemplate(action.comment, context);
        const updated = await connector.updateTask(config, { externalId: task.externalId, status: action.type === "close_task" ? "done" : undefined, comment }, ctx);
        // Recorded as ours now, so the tool's webhook echo of this same change is a no-op.
        await db.transaction(async (tx) => {
          await recordAudit(tx, { actor, action: "task.updated", entityType: "task", entityId: task.id, newValue: { status: updated.status, comment: comment ?? null } });
          await applyStatusChange(tx, after, claimed.integrationId, { externalId: task.externalId, status: updated.status, externalStatus: updated.externalStatus, at: new Date().toISOString() }, actor);
        });
      }
      await markDone(db, [claimed.id]);
      break;
    }
  }
  await after.flush(deps.queues, deps.pubsub, deps.log);
  return "done";
}

async function failed(deps: HandlerRun<"action.run">["deps"], f: { job: HandlerRun<"action.run">["job"]; worker: Worker; claimed: ClaimedAction; error: unknown }): Promise<never> {
  const { job, worker, claimed, error } = f;
  const { db } = deps.database;
  const kind = error instanceof IntegrationConfigError ? "rejected" : isConnectorError(error) ? error.kind : "transient";
  const message = error instanceof Error ? error.message : String(error);
  await db.update(integrations).set({ lastErrorAt: sql`now()`, lastError: `${kind}: ${message}` }).where(eq(integrations.id, claimed.integrationId));
  if (kind === "rate_limited") {
    // The attempt is given back: waiting out a 429 is not a failure.
    await db.update(eventActions).set({ attempts: sql`${eventActions.attempts} - 1`, errorKind: kind, lastError: message }).where(eq(eventActions.id, claimed.id));
    const wait = isConnectorError(error) ? (error.details.retryAfterMs ?? 1_000) : 1_000;
    deps.log.warn({ eventActionId: claimed.id, waitMs: wait }, "tool rate limit: queue paused");
    await worker.rateLimit(wait);
    throw Worker.RateLimitError();
  }
  const final = kind !== "transient" || isLastAttempt(job);
  await db.transaction(async (tx) => {
    await tx
      .update(eventActions)
      .set({ status: final ? "dead" : "pending", errorKind: kind, lastError: message, updatedAt: sql`now()` })
      .where(eq(eventActions.id, claimed.id));
    if (final) await recordAudit(tx, { actor, action: "action.dead_lettered", entityType: "event_action", entityId: claimed.id, newValue: { errorKind: kind, attempts: claimed.attempts }, reason: message });
  });
  if (final) {
    deps.log.error({ eventActionId: claimed.id, errorKind: kind, err: error }, "action dead-lettered");
    throw new UnrecoverableError(`${kind}: ${message}`);
  }
  throw error;
}

/** Stable per (event, action): survives retries, replays and crashes. */
const idempotencyKey = (claimed: ClaimedAction) => `pg-e${claimed.eventId}-${claimed.actionKey.replace(/\./g, "-")}`;

const priorityOf: Record<string, TaskPriority> = { info: "low", warning: "medium", critical: "high" };

function taskDraft(action: Extract<AutomationAction, { type: "create_task" }>, claimed: ClaimedAction, event: EventRow, context: TemplateContext): TaskDraft {
  const due = action.dueInHours === undefined ? undefined : new Date(event.at.getTime() + action.dueInHours * 3_600_000).toISOString().slice(0, 10);
  return {
    key: idempotencyKey(claimed),
    title: renderTemplate(action.title, context).slice(0, 255),
    description: renderTemplate(action.description, context),
    assignee: action.assignee === undefined ? undefined : renderTemplate(action.assignee, context) || undefined,
    dueDate: due,
    labels: ["plantgraph", ...action.labels.map((l) => renderTemplate(l, context)).filter((l) => /^[^\s,]+$/.test(l))],
    priority: action.priority ?? priorityOf[event.severity] ?? "medium",
  };
}

function facts(context: TemplateContext): Record<string, string> {
  const pick = (template: string) => renderTemplate(template, context);
  const all = { Machine: pick("{{machine.path}}"), Event: pick("{{event.kind}}"), Severity: pick("{{event.severity}}"), Value: pick("{{event.value}}"), Rule: pick("{{rule.name}}") };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== ""));
}
