import { withinTolerance, type CommandChannel } from "./command-channel.js";
import type { ReportedValues } from "./reported-values.js";

export type PublishCommand = (topic: string, payload: Buffer) => Promise<void>;

/**
 * Plain MQTT: `{"value": <number or boolean>, "actuationId": <id>, "ts": <ISO>}` on the point's
 * command topic (QoS 1), confirmed by the value the machine then reports on the point's binding;
 * `{"method": ..., "arguments": {...}, "actuationId": ..., "ts": ...}` on a method's topic.
 */
export function mqttCommandChannel(publish: PublishCommand, reported: ReportedValues): CommandChannel {
  return {
    transport: "mqtt",
    async write(target, value, { timeoutMs, tolerance }) {
      if (!target.commandTopic) throw new Error("the point has no MQTT command topic");
      const readBack = reported.next(target.dataPointId, (v) => withinTolerance(v, value, tolerance), timeoutMs);
      const sent = target.dataType === "boolean" ? value === 1 : value;
      await publish(target.commandTopic, Buffer.from(JSON.stringify({ value: sent, actuationId: target.actuationId, ts: new Date().toISOString() })));
      return { readBack: await readBack };
    },
    async call(target, args) {
      const topic = target.address.topic;
      if (!topic) throw new Error("the method has no MQTT topic");
      await publish(topic, Buffer.from(JSON.stringify({ method: target.method, arguments: args, actuationId: target.actuationId, ts: new Date().toISOString() })));
      return { confirmed: false };
    },
  };
}
