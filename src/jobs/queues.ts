import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "../log/logger.js";
import type { JobEnqueuer, PlannedJob } from "../events/after-commit.js";
import { jobOptions, queueFor } from "./catalog.js";

/**
 * The producer side of the queues. Its Redis connection fails fast (no offline queue): a job that
 * cannot be added now stays pending in PostgreSQL and the reconcile job adds it later.
 */
export class JobQueues implements JobEnqueuer {
  private readonly queues = new Map<string, Queue>();
  private readonly connection: Redis;
  private lastError = "";

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.connection = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.connection.on("error", (error: Error) => {
      if (error.message === this.lastError) return;
      this.lastError = error.message;
      log.warn({ err: error }, "job queue redis connection error; reconnecting");
    });
    this.connection.on("ready", () => (this.lastError = ""));
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on("error", () => {}); // reported once by the connection listener above
      this.queues.set(name, queue);
    }
    return queue;
  }

  async enqueue(jobs: readonly PlannedJob[]): Promise<void> {
    await this.add(jobs, false);
  }

  /** Adds again jobs that may linger in Redis as failed (replay, reconcile): the old copy is removed first. */
  async requeue(jobs: readonly PlannedJob[]): Promise<number> {
    return this.add(jobs, true);
  }

  /** Waiting, active, delayed and failed counts of one queue. */
  async counts(name: string): Promise<Record<string, number>> {
    return this.queue(name).getJobCounts("waiting", "active", "delayed", "failed", "prioritized");
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.connection.disconnect();
  }

  private async add(jobs: readonly PlannedJob[], replaceFailed: boolean): Promise<number> {
    const byQueue = new Map<string, PlannedJob[]>();
    for (const job of jobs) {
      const name = queueFor(job.item, job.connectorKind);
      const list = byQueue.get(name);
      if (list) list.push(job);
      else byQueue.set(name, [job]);
    }
    let added = 0;
    for (const [name, list] of byQueue) {
      const queue = this.queue(name);
      try {
        if (replaceFailed) await this.removeFailed(queue, list);
        await queue.addBulk(list.map(({ item }) => ({ name: item.name, data: item.data, opts: jobOptions(item) })));
        added += list.length;
      } catch (error) {
        this.log.warn({ err: error, queue: name, jobs: list.length }, "jobs not added now; the reconcile job will add them");
      }
    }
    return added;
  }

  private async removeFailed(queue: Queue, list: readonly PlannedJob[]): Promise<void> {
    for (const { item } of list) {
      const id = jobOptions(item).jobId;
      const existing = id ? await queue.getJob(id) : undefined;
      if (existing && (await existing.isFailed())) await existing.remove();
    }
  }
}
