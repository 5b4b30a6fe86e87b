import { connectPublisher, publishWindowed } from "../test/support/hub-process.js";
import { wallClock } from "./support.js";

/**
 * A publisher process: the parent sends { url, messages, window, maxPerSecond? } and "go"; it
 * publishes QoS 1, in order, with a bounded window of unacknowledged messages (no faster than
 * maxPerSecond when given) and reports when all are acknowledged, with the wall-clock time each
 * was handed to the client. Its own process, so publishing does not take CPU from the hub being
 * measured.
 */
interface Job {
  url: string;
  messages: { topic: string; payload: string; base64?: true }[];
  window: number;
  maxPerSecond?: number;
}

process.once("message", async (job: Job) => {
  const client = await connectPublisher(job.url, `bench-publisher-${process.pid}`);
  process.send!({ ready: true });
  await new Promise<void>((resolve) => process.once("message", () => resolve()));
  const sentAt: number[] = new Array(job.messages.length);
  const messages = job.messages.map((m) => (m.base64 ? { topic: m.topic, payload: Buffer.from(m.payload, "base64") } : m));
  const { errors } = await publishWindowed(client, messages, { window: job.window, maxPerSecond: job.maxPerSecond, onSent: (i) => (sentAt[i] = wallClock()) }).finished;
  if (errors.length > 0) {
    console.error(`publisher: ${errors.length} publishes failed, the first: ${errors[0]!.message}`);
    process.exit(1);
  }
  await client.endAsync();
  process.send!({ done: job.messages.length, sentAt }, () => process.exit(0));
});
