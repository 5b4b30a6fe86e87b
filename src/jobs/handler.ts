import type { Job, Worker } from "bullmq";
import type { Database } from "../db/database.js";
import type { RetentionDefaults } from "../lifecycle/retention.js";
import type { Logger } from "../log/logger.js";
import type { HubPubSub } from "../pubsub/pubsub.js";
import type { SecretBox } from "../secrets/secret-box.js";
import type { ActionBatches } from "./action-batches.js";
import type { JobName, JobPayloads } from "./catalog.js";
import type { JobQueues } from "./queues.js";

/** What every handler may use. Handlers re-read the database: job data holds ids only. */
export interface HandlerDeps {
  database: Database;
  box: SecretBox | undefined;
  pubsub: HubPubSub;
  queues: JobQueues;
  log: Logger;
  /** Seconds between status polls of a polling integration. */
  pollIntervalSeconds: number;
  /** Pending actions older than this are re-enqueued by the reconcile job. */
  reconcileAfterSeconds: number;
  /** The round trips that the actions running at once share. */
  actions: ActionBatches;
  /** Days telemetry is kept where no site or data point policy says otherwise. */
  retention: RetentionDefaults;
}

export interface HandlerRun<K extends JobName> {
  data: JobPayloads[K];
  job: Job<JobPayloads[K]>;
  worker: Worker;
  deps: HandlerDeps;
}

export type Handler<K extends JobName> = (run: HandlerRun<K>) => Promise<unknown>;

/** True on the job's last allowed attempt: a failure now is final. */
export const isLastAttempt = (job: Job) => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
