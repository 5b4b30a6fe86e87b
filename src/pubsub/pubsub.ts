import { createPubSub } from "@graphql-yoga/subscription";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { Redis } from "ioredis";
import type { Quality } from "../telemetry/sample.js";

/** A reading as subscribers receive it: JSON-safe, timestamps as ISO strings. */
export interface ReadingEvent {
  dataPointId: number;
  machineId: number;
  metric: string;
  value: number;
  ts: string;
  quality: Quality;
}

/**
 * The typed topic map. Payloads are published after the commit that made them true, carry ids
 * and new values only, and cross processes through Redis when it is configured.
 */
export type Topics = {
  /** All readings of one machine from one committed batch. */
  READING_ADDED: [machineId: number, readings: ReadingEvent[]];
  ASSETS_CHANGED: [change: { at: string }];
};

export type HubPubSub = ReturnType<typeof createPubSub<Topics>>;

export interface PubSubHandle {
  readonly pubsub: HubPubSub;
  readonly distributed: boolean;
  close(): Promise<void>;
}

export function createHubPubSub(redisUrl?: string): PubSubHandle {
  if (!redisUrl) return { pubsub: createPubSub<Topics>(), distributed: false, close: async () => {} };
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false });
  // Errors surface through readiness checks; without a listener ioredis would crash the process.
  publishClient.on("error", () => {});
  subscribeClient.on("error", () => {});
  const eventTarget = createRedisEventTarget({ publishClient, subscribeClient });
  return {
    pubsub: createPubSub<Topics>({ eventTarget }),
    distributed: true,
    close: async () => {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}
