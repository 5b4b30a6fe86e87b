import type { Logger } from "../log/logger.js";
import type { HubPubSub, Topics } from "../pubsub/pubsub.js";
import type { JobItem } from "../jobs/catalog.js";

/** A job to add once the transaction that planned it has committed. */
export interface PlannedJob {
  item: JobItem;
  /** For action.run: the connector kind of the integration (it picks the queue). */
  connectorKind?: string;
}

export interface JobEnqueuer {
  /** Never throws: a job that cannot be added now is re-added later by the reconcile job. */
  enqueue(jobs: readonly PlannedJob[]): Promise<void>;
}

type Message = { [K in keyof Topics]: [K, ...Topics[K]] }[keyof Topics];

/**
 * Collects what a transaction wants to tell the world, and tells it only after the commit:
 * a subscriber or a worker never hears of a row that is not in PostgreSQL.
 */
export class AfterCommit {
  readonly jobs: PlannedJob[] = [];
  readonly messages: Message[] = [];

  job(item: JobItem, connectorKind?: string): void {
    this.jobs.push({ item, connectorKind });
  }

  publish<K extends keyof Topics>(topic: K, ...args: Topics[K]): void {
    this.messages.push([topic, ...args] as unknown as Message);
  }

  async flush(queues: JobEnqueuer | undefined, pubsub: HubPubSub, log: Logger): Promise<void> {
    if (this.jobs.length > 0) {
      if (queues) await queues.enqueue(this.jobs);
      else log.warn({ jobs: this.jobs.length }, "no job queue configured: actions wait for a worker's reconcile");
    }
    for (const [topic, ...args] of this.messages) (pubsub.publish as (t: string, ...a: unknown[]) => void)(topic, ...args);
  }
}
