import type { JobsOptions } from "bullmq";

/**
 * Every queue and job of the hub, in one place. Job data carries ids only: handlers re-read the
 * database, so retries and replays are safe and no secret ever sits in Redis. Queue names and
 * job ids contain no ':' (BullMQ uses it as its key separator).
 */

/** One queue per connector kind, so each tool gets its own rate limiter. */
export const actionQueueName = (connectorKind: string) => `actions-${connectorKind}`;
export const WEBHOOK_QUEUE = "webhooks";
export const MAINTENANCE_QUEUE = "maintenance";

export interface JobPayloads {
  /** Carry out one planned automation action (create a task, notify, close or comment). */
  "action.run": { eventActionId: number };
  /** Apply a stored, verified webhook delivery. */
  "webhook.apply": { deliveryId: number };
  /** Ask a polling connector for status changes of its open tasks. */
  "integration.poll": { integrationId: number };
  /** Re-enqueue actions still pending after the grace period (a Redis outage delays, never loses). */
  "actions.reconcile": Record<string, never>;
  /** Bring the 1-minute and 1-hour rollups of telemetry up to date. */
  "telemetry.rollup": Record<string, never>;
  /** Expire telemetry and rollups past their retention, keeping held lots' readings. */
  "telemetry.expire": Record<string, never>;
  /** Make the telemetry day partitions of the coming days. */
  "telemetry.partitions": Record<string, never>;
}
export type JobName = keyof JobPayloads;
export type JobItem = { [K in JobName]: { name: K; data: JobPayloads[K] } }[JobName];

/** Transient failures retry with exponential backoff: 1 s, 2 s, 4 s ... about 4 minutes in all. */
export const ACTION_ATTEMPTS = 8;
const BACKOFF = { type: "exponential", delay: 1_000 } as const;

/** The queue an item goes to (actions need their connector's kind). */
export function queueFor(item: JobItem, connectorKind?: string): string {
  switch (item.name) {
    case "action.run":
      if (!connectorKind) throw new Error("action.run needs the connector kind of its integration");
      return actionQueueName(connectorKind);
    case "webhook.apply":
      return WEBHOOK_QUEUE;
    case "integration.poll":
    case "actions.reconcile":
    case "telemetry.rollup":
    case "telemetry.expire":
    case "telemetry.partitions":
      return MAINTENANCE_QUEUE;
  }
}

/** Job id, attempts, backoff and removal for an item. The id is derived from the ids it carries. */
export function jobOptions(item: JobItem): JobsOptions {
  // Completed jobs are removed so that a later re-enqueue (reconcile, replay) with the same id is
  // accepted; PostgreSQL, not Redis, remembers what was done.
  const removal = { removeOnComplete: true, removeOnFail: { count: 1_000 } } as const;
  switch (item.name) {
    case "action.run":
      return { jobId: `action-${item.data.eventActionId}`, attempts: ACTION_ATTEMPTS, backoff: BACKOFF, ...removal };
    case "webhook.apply":
      return { jobId: `webhook-${item.data.deliveryId}`, attempts: 5, backoff: BACKOFF, ...removal };
    case "integration.poll":
    case "actions.reconcile":
    case "telemetry.rollup":
    case "telemetry.expire":
    case "telemetry.partitions":
      // Scheduled: the next run is the retry.
      return { attempts: 1, ...removal };
  }
}

/** Scheduler ids (BullMQ Job Schedulers replace v5's repeatable jobs). */
export const pollSchedulerId = (integrationId: number) => `poll-${integrationId}`;
export const RECONCILE_SCHEDULER_ID = "reconcile-actions";
export const ROLLUP_SCHEDULER_ID = "telemetry-rollup";
export const EXPIRE_SCHEDULER_ID = "telemetry-expire";
export const PARTITIONS_SCHEDULER_ID = "telemetry-partitions";
