import { Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { connectors } from "../../connectors/index.js";
import { runAction } from "./action.handler.js";
import {
  actionQueueName,
  EXPIRE_SCHEDULER_ID,
  MAINTENANCE_QUEUE,
  PARTITIONS_SCHEDULER_ID,
  RECONCILE_SCHEDULER_ID,
  ROLLUP_SCHEDULER_ID,
  WEBHOOK_QUEUE,
  type JobName,
  type JobPayloads,
} from "./catalog.js";
import type { Handler, HandlerDeps } from "./handler.js";
import { expireOldTelemetry, makeTelemetryPartitions, rollUpTelemetry } from "./lifecycle.handlers.js";
import { applyWebhook, pollIntegration, reconcile } from "./status.handlers.js";

/** A missing handler is a compile error, not a job stuck at run time. */
const handlers = {
  "action.run": runAction,
  "webhook.apply": applyWebhook,
  "integration.poll": pollIntegration,
  "actions.reconcile": reconcile,
  "telemetry.rollup": rollUpTelemetry,
  "telemetry.expire": expireOldTelemetry,
  "telemetry.partitions": makeTelemetryPartitions,
} satisfies { [K in JobName]: Handler<K> };

export interface WorkerOptions {
  redisUrl: string;
  prefix: string;
  /** Jobs each action queue runs at once. */
  concurrency: number;
  reconcileEverySeconds: number;
  rollupEverySeconds: number;
  retentionEverySeconds: number;
  lockSeconds: number;
  rateLimits: Readonly<Record<string, { max: number; durationMs: number }>>;
}

export interface RunningWorkers {
  close(): Promise<void>;
}

/**
 * One worker per queue: an action queue per connector kind with that tool's rate limit, the
 * webhook queue and the maintenance queue (reconcile and polls on Job Schedulers).
 */
export async function startWorkers(deps: HandlerDeps, options: WorkerOptions): Promise<RunningWorkers> {
  // Workers block on Redis: their connection must retry forever (maxRetriesPerRequest null).
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  let lastError = "";
  connection.on("error", (error: Error) => {
    if (error.message !== lastError) deps.log.warn({ err: error }, "worker redis connection error; reconnecting");
    lastError = error.message;
  });
  connection.on("ready", () => (lastError = ""));

  const workers: Worker[] = [];
  const start = (queue: string, concurrency: number, limiter?: { max: number; duration: number }) => {
    const lockDuration = options.lockSeconds * 1000;
    const worker: Worker = new Worker(queue, (job: Job) => dispatch(job, worker, deps), { connection, prefix: options.prefix, concurrency, limiter, lockDuration, stalledInterval: lockDuration });
    worker.on("failed", (job, error) => deps.log.debug({ queue, jobId: job?.id, err: error }, "job attempt failed"));
    worker.on("error", (error) => deps.log.warn({ queue, err: error }, "worker error"));
    workers.push(worker);
  };
  for (const connector of connectors.values()) {
    const { max, durationMs } = options.rateLimits[connector.kind] ?? connector.rateLimit;
    start(actionQueueName(connector.kind), options.concurrency, { max, duration: durationMs });
  }
  start(WEBHOOK_QUEUE, 4);
  start(MAINTENANCE_QUEUE, 2);

  const maintenance = deps.queues.queue(MAINTENANCE_QUEUE);
  const scheduleMaintenance = () =>
    Promise.all([
      maintenance.upsertJobScheduler(RECONCILE_SCHEDULER_ID, { every: options.reconcileEverySeconds * 1000 }, { name: "actions.reconcile", data: {} }),
      maintenance.upsertJobScheduler(ROLLUP_SCHEDULER_ID, { every: options.rollupEverySeconds * 1000 }, { name: "telemetry.rollup", data: {} }),
      maintenance.upsertJobScheduler(EXPIRE_SCHEDULER_ID, { every: options.retentionEverySeconds * 1000 }, { name: "telemetry.expire", data: {} }),
      maintenance.upsertJobScheduler(PARTITIONS_SCHEDULER_ID, { every: options.retentionEverySeconds * 1000 }, { name: "telemetry.partitions", data: {} }),
    ]);
  await scheduleMaintenance();
  // And again on the reconcile cadence: a Redis that restarted empty has forgotten its schedulers,
  // and the reconcile job is what brings back the work it lost. Upserting is idempotent.
  const keepScheduled = setInterval(
    () => void scheduleMaintenance().catch((error: unknown) => deps.log.debug({ err: error }, "maintenance schedulers not set now; next round")),
    options.reconcileEverySeconds * 1000,
  );
  deps.log.info({ queues: workers.length, prefix: options.prefix }, "workers started");

  return {
    close: async () => {
      clearInterval(keepScheduled);
      await Promise.allSettled(workers.map((w) => w.close()));
      connection.disconnect(); // a connection passed in is not closed by worker.close()
    },
  };
}

function dispatch(job: Job, worker: Worker, deps: HandlerDeps): Promise<unknown> {
  const name = job.name as JobName;
  const handler = handlers[name] as Handler<JobName> | undefined;
  if (!handler) throw new Error(`no handler for job ${job.name}`);
  return handler({ data: job.data as JobPayloads[JobName], job, worker, deps });
}
