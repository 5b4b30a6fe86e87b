import type { Database } from "../../src/db/database.js";
import type { JobEnqueuer } from "../../src/events/after-commit.js";
import { TransitionRecorder } from "../../src/events/transition.recorder.js";
import { createHubPubSub } from "../../src/pubsub/pubsub.js";
import type { RuleTransition } from "../../src/rules/evaluate.js";
import { quietLog, type CounterRule } from "./pipeline.js";

/** `count` batch-completed transitions of a counter rule, numbered from `first`. */
export function batchTransitions({ ruleId, machineId, dataPointId }: CounterRule, count: number, first = 1): RuleTransition[] {
  return Array.from({ length: count }, (_, i) => ({
    type: "batch_completed" as const,
    ruleId,
    ruleVersion: 1,
    machineId,
    dataPointId,
    at: Date.now(),
    value: (first + i) * 10,
    message: `batch ${first + i} of 10 parts completed`,
    detail: { batchNumber: first + i },
  }));
}

/** Records transitions through the real recorder (events, audit, planned actions, jobs after commit). */
export async function recordTransitions(database: Database, queues: JobEnqueuer | undefined, transitions: RuleTransition[]): Promise<void> {
  const pubsub = createHubPubSub();
  const recorder = new TransitionRecorder(database, queues, pubsub.pubsub, quietLog());
  await recorder.record(transitions);
  await recorder.close();
  await pubsub.close();
}
