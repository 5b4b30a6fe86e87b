import { stateTopic } from "./sparkplug.topic.js";

/**
 * The host application's STATE (Sparkplug 3.0): retained JSON on spBv1.0/STATE/<host id>, online
 * on every connect and offline as the MQTT will, both with the same timestamp so edge nodes can
 * tell which session a message belongs to.
 */
export function sparkplugHostState(hostId: string, since: number): { topic: string; online: Buffer; offline: Buffer } {
  const state = (online: boolean) => Buffer.from(JSON.stringify({ online, timestamp: since }));
  return { topic: stateTopic(hostId), online: state(true), offline: state(false) };
}
