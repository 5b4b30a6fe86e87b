import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { connectors } from "../../connectors/index.js";
import type { StatusChange } from "../../connectors/sdk/types.js";
import { eventActions } from "../../schema/db/events.js";
import { integrations } from "../../schema/db/security.js";
import { tasks, webhookDeliveries } from "../../schema/db/tasks.js";
import { recordAudit, systemActor } from "../audit/audit.js";
import { AfterCommit } from "../events/after-commit.js";
import { connectorContext, readyIntegration } from "../integrations/connector-config.js";
import { applyStatusChange } from "../tasks/task.service.js";
import { MAINTENANCE_QUEUE, pollSchedulerId } from "./catalog.js";
import type { HandlerDeps, HandlerRun } from "./handler.js";

/** Status changes a tool reported, applied one canonical way; returns how many changed a task. */
async function applyChanges(deps: HandlerDeps, integrationId: number, changes: readonly StatusChange[]): Promise<number> {
  const after = new AfterCommit();
  let applied = 0;
  await deps.database.db.transaction(async (tx) => {
    for (const change of changes) {
      if (await applyStatusChange(tx, after, integrationId, change, `tool:${integrationId}`)) applied++;
    }
  });
  await after.flush(deps.queues, deps.pubsub, deps.log);
  return applied;
}

/** A verified, stored webhook delivery: parse it with the connector and apply its changes. */
export async function applyWebhook({ data, deps }: HandlerRun<"webhook.apply">): Promise<string> {
  const { db } = deps.database;
  const [delivery] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, data.deliveryId));
  if (!delivery || delivery.status === "applied") return "nothing to apply";
  try {
    const ready = await readyIntegration(db, deps.box, delivery.integrationId);
    if (!ready?.connector.parseWebhook) throw new Error("the integration no longer accepts webhooks");
    const request = { headers: delivery.headers, body: Buffer.from(delivery.body, "utf8") };
    const changes = ready.connector.parseWebhook(ready.config, request, connectorContext(deps.log));
    const applied = await applyChanges(deps, delivery.integrationId, changes);
    await db.update(webhookDeliveries).set({ status: "applied", changes: applied, appliedAt: sql`now()`, error: null }).where(eq(webhookDeliveries.id, delivery.id));
    return `${applied} of ${changes.length} changes applied`;
  } catch (error) {
    await db.update(webhookDeliveries).set({ status: "failed", error: (error as Error).message }).where(eq(webhookDeliveries.id, delivery.id));
    throw error;
  }
}

/** Asks a polling connector about the integration's open tasks. */
export async function pollIntegration({ data, deps }: HandlerRun<"integration.poll">): Promise<string> {
  const { db } = deps.database;
  const startedAt = new Date();
  const ready = await readyIntegration(db, deps.box, data.integrationId);
  if (!ready?.connector.poll) return "not a polling integration";
  const open = await db
    .select({ externalId: tasks.externalId, status: tasks.status })
    .from(tasks)
    .where(and(eq(tasks.integrationId, data.integrationId), inArray(tasks.status, ["open", "in_progress"])));
  if (open.length === 0) return "no open tasks";
  try {
    const changes = await ready.connector.poll(ready.config, { tasks: open, since: ready.row.polledAt?.toISOString() }, connectorContext(deps.log));
    const applied = await applyChanges(deps, data.integrationId, changes);
    await db.update(integrations).set({ polledAt: startedAt, lastSuccessAt: sql`now()` }).where(eq(integrations.id, data.integrationId));
    return `${applied} changes from ${open.length} open tasks`;
  } catch (error) {
    await db.update(integrations).set({ lastErrorAt: sql`now()`, lastError: `poll: ${(error as Error).message}` }).where(eq(integrations.id, data.integrationId));
    throw error;
  }
}

/**
 * PostgreSQL is the source of truth: actions still pending after the grace period (their job was
 * lost with Redis, or never added) are added again under the same job id. It also keeps one poll
 * scheduler per polling integration, so integrations added or removed need no restart.
 */
export async function reconcile({ deps }: HandlerRun<"actions.reconcile">): Promise<string> {
  const { db } = deps.database;
  const stale = await db
    .select({ id: eventActions.id, kind: integrations.kind })
    .from(eventActions)
    .innerJoin(integrations, eq(integrations.id, eventActions.integrationId))
    .where(and(eq(eventActions.status, "pending"), lt(eventActions.updatedAt, sql`now() - make_interval(secs => ${deps.reconcileAfterSeconds})`)))
    .limit(5_000);
  const deliveries = await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, "received"), lt(webhookDeliveries.receivedAt, sql`now() - make_interval(secs => ${deps.reconcileAfterSeconds})`)))
    .limit(5_000);
  const requeued = await deps.queues.requeue([
    ...stale.map((s) => ({ item: { name: "action.run" as const, data: { eventActionId: s.id } }, connectorKind: s.kind })),
    ...deliveries.map((d) => ({ item: { name: "webhook.apply" as const, data: { deliveryId: d.id } } })),
  ]);
  const polling = await syncPollSchedulers(deps);
  if (stale.length > 0) {
    await recordAudit(db, { actor: systemActor("reconcile"), action: "action.replayed", entityType: "event_action", entityId: stale.map((s) => s.id).join(","), reason: "pending past the grace period" });
  }
  if (stale.length + deliveries.length > 0) deps.log.info({ pending: stale.length, deliveries: deliveries.length, requeued }, "reconcile re-enqueued pending work");
  return `${requeued} re-enqueued, ${polling} polling integrations`;
}

async function syncPollSchedulers(deps: HandlerDeps): Promise<number> {
  const rows = await deps.database.db.select({ id: integrations.id, kind: integrations.kind }).from(integrations);
  const polling = rows.filter((r) => connectors.get(r.kind)?.capabilities.poll);
  const queue = deps.queues.queue(MAINTENANCE_QUEUE);
  const wanted = new Set(polling.map((r) => pollSchedulerId(r.id)));
  for (const row of polling) {
    await queue.upsertJobScheduler(pollSchedulerId(row.id), { every: deps.pollIntervalSeconds * 1000 }, { name: "integration.poll", data: { integrationId: row.id } });
  }
  for (const scheduler of await queue.getJobSchedulers()) {
    if (scheduler.key.startsWith("poll-") && !wanted.has(scheduler.key)) await queue.removeJobScheduler(scheduler.key);
  }
  return polling.length;
}
