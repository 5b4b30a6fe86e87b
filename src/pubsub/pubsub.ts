import { createPubSub, Repeater, SlidingBuffer, type PubSubEventTarget } from "@graphql-yoga/subscription";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { Redis } from "ioredis";
import type { Logger } from "../log/logger.js";
import type { ActuationStatus } from "../../schema/db/actuation.js";
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
  /** An alarm's new state; subscribers re-read the alarm by id. */
  ALARM_CHANGED: [change: AlarmChange];
  /** A task created or its status changed. */
  TASK_CHANGED: [change: TaskChange];
  /** Rules changed: ingest replicas reload their rule engine. */
  RULES_CHANGED: [change: { at: string }];
  /** Lots whose record changed (started, ended, a component, a quality result, a hold). */
  TRACE_UPDATED: [change: TraceChange];
  /** A setpoint write changed status; an ingest process sends the approved ones. */
  ACTUATION_CHANGED: [change: ActuationChange];
  /** A machine entered a state (a new interval began, or the open one's state or reason changed). */
  MACHINE_STATE_CHANGED: [change: MachineStateChange];
  /** Shift calendars or machine state configs changed: the state tracker reloads them. */
  PLANNING_CHANGED: [change: { at: string; machineIds?: number[] }];
};

export interface TraceChange {
  /** The lot changed first; a new component also names the parent lot. */
  lotIds: number[];
  at: string;
}

export interface ActuationChange {
  actuationId: number;
  machineId: number;
  status: ActuationStatus;
  at: string;
}

export interface MachineStateChange {
  machineId: number;
  intervalId: number;
  state: "running" | "idle" | "down" | "maintenance" | "setup" | "offline" | "planned_stop";
  reason: string;
  source: string;
  since: string;
}

export interface AlarmChange {
  alarmId: number;
  machineId: number;
  state: "active" | "acknowledged" | "cleared";
  at: string;
}

export interface TaskChange {
  taskId: number;
  machineId: number | null;
  alarmId: number | null;
  integrationId: number;
  status: "open" | "in_progress" | "done" | "cancelled";
  at: string;
}

export type HubPubSub = ReturnType<typeof createPubSub<Topics>>;

export interface PubSubHandle {
  readonly pubsub: HubPubSub;
  readonly distributed: boolean;
  close(): Promise<void>;
}

/**
 * In-process without `redisUrl`; otherwise Redis-backed, its channels named `<prefix>:<topic>`, so
 * hubs (and test runs) sharing a Redis hear only their own deployment's news.
 */
export function createHubPubSub(redisUrl?: string, log?: Logger, prefix = "plantgraph"): PubSubHandle {
  if (!redisUrl) return { pubsub: boundedPubSub(new EventTarget() as PubSubEventTarget<Topics>), distributed: false, close: async () => {} };
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false });
  // Without a listener ioredis would crash the process; ioredis reconnects by itself.
  let lastError = "";
  const report = (error: Error) => {
    if (error.message === lastError) return; // one line per kind of trouble, not per retry
    lastError = error.message;
    log?.warn({ err: error }, "redis pubsub connection error; reconnecting");
  };
  publishClient.on("error", report);
  subscribeClient.on("error", report);
  subscribeClient.on("ready", () => (lastError = ""));
  // The event target does not wait for PUBLISH: without this catch a Redis outage would surface
  // as an unhandled rejection and stop the process. A lost notification is only a late one:
  // subscribers read state from PostgreSQL.
  const safePublisher = {
    publish: (channel: string, message: string) =>
      publishClient.publish(channel, message).catch((error: Error) => {
        report(error);
        return 0;
      }),
  } as unknown as Redis;
  const redisTarget = createRedisEventTarget({ publishClient: safePublisher, subscribeClient });
  const channel = (topic: string) => `${prefix}:${topic}`;
  const eventTarget: typeof redisTarget = {
    addEventListener: (topic, listener) => redisTarget.addEventListener(channel(topic), listener),
    removeEventListener: (topic, listener) => redisTarget.removeEventListener(channel(topic), listener),
    dispatchEvent: (event) => redisTarget.dispatchEvent(new CustomEvent(channel(event.type), { detail: event.detail })),
  };
  return {
    pubsub: boundedPubSub(eventTarget),
    distributed: true,
    close: async () => {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

/** Messages a subscriber may fall behind by; beyond that its oldest are dropped (it re-reads state from PostgreSQL). */
export const SUBSCRIBER_BUFFER = 1_000;

/**
 * createPubSub with a bounded buffer per subscription: its own subscribe throws into the message
 * handler once a consumer is 1,024 messages behind, which stops the whole process, and its
 * `repeaterBuffer` option hands one buffer object to every subscription. A slow WebSocket client
 * or a busy listener must cost only its own oldest notifications.
 */
function boundedPubSub(eventTarget: PubSubEventTarget<Topics>): HubPubSub {
  const { publish } = createPubSub<Topics>({ eventTarget });
  const subscribe = (routingKey: string, id?: string) => {
    const topic = id === undefined ? routingKey : `${routingKey}:${id}`;
    return new Repeater<unknown>((next, stop) => {
      const listener = (event: CustomEvent) => void next(event.detail);
      eventTarget.addEventListener(topic, listener);
      void stop.then(() => eventTarget.removeEventListener(topic, listener));
    }, new SlidingBuffer(SUBSCRIBER_BUFFER));
  };
  return { publish, subscribe } as HubPubSub;
}
