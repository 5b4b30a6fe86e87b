import type { Bus } from "../bus/bus.js";
import type { HubPubSub, ReadingEvent } from "../pubsub/pubsub.js";
import type { Sample } from "./sample.js";

/** Committed samples grouped by machine, as subscribers receive them. */
export function readingEventsByMachine(samples: readonly Sample[]): Map<number, ReadingEvent[]> {
  const byMachine = new Map<number, ReadingEvent[]>();
  for (const s of samples) {
    const event: ReadingEvent = {
      dataPointId: s.dataPointId,
      machineId: s.machineId,
      metric: s.metric,
      value: s.value,
      ts: new Date(s.ts).toISOString(),
      quality: s.quality,
    };
    const list = byMachine.get(s.machineId);
    if (list) list.push(event);
    else byMachine.set(s.machineId, [event]);
  }
  return byMachine;
}

/**
 * Publishes READING_ADDED once per machine per committed batch (not once per sample), so a busy
 * plant costs one pubsub message per machine per flush. Returns the unsubscribe function.
 */
export function startReadingPublisher(bus: Bus, pubsub: HubPubSub): () => void {
  return bus.on("reading-publisher", "samplesStored", (samples) => {
    for (const [machineId, readings] of readingEventsByMachine(samples)) {
      pubsub.publish("READING_ADDED", machineId, readings);
    }
  });
}
