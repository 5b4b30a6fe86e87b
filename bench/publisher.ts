import mqtt from "mqtt";

/**
 * A publisher process: the parent sends { url, topic prefix, messages } and "go"; it publishes
 * QoS 1 with a bounded window of unacknowledged messages and reports when all are acknowledged.
 * Its own process, so publishing does not take CPU from the hub being measured.
 */
interface Job {
  url: string;
  messages: { topic: string; payload: string }[];
  window: number;
}

process.once("message", async (job: Job) => {
  const client = await mqtt.connectAsync(job.url, { clean: true, protocolVersion: 5 });
  process.send!({ ready: true });
  await new Promise<void>((resolve) => process.once("message", () => resolve()));
  let next = 0;
  const worker = async () => {
    while (next < job.messages.length) {
      const message = job.messages[next++]!;
      await client.publishAsync(message.topic, message.payload, { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: job.window }, worker));
  await client.endAsync();
  process.send!({ done: job.messages.length }, () => process.exit(0));
});
