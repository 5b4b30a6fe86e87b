import type { TypeStr } from "sparkplug-payload/lib/sparkplugbpayload.js";
import type { DataType } from "../../schema/db/assets.js";
import { encodeSparkplug } from "../ingest/sparkplug/sparkplug.codec.js";
import { sparkplugTopic } from "../ingest/sparkplug/sparkplug.topic.js";
import { withinTolerance, type CommandChannel } from "./command-channel.js";
import type { PublishCommand } from "./mqtt-command.channel.js";
import type { ReportedValues } from "./reported-values.js";

/** The metric's type as its birth declared it, when the host has seen that birth. */
export type BirthType = (group: string, node: string, device: string | undefined, metric: string) => string | undefined;

const fallbackType: Record<DataType, TypeStr> = { float: "Double", integer: "Int64", boolean: "Boolean" };

/**
 * Sparkplug B: DCMD to the point's device (NCMD for a metric of the edge node itself) with the
 * metric by name, typed as its birth declared it; confirmed by the next DDATA/NDATA value. A
 * method is a Boolean command metric set true (as Sparkplug's own `Node Control/Reboot`).
 */
export function sparkplugCommandChannel(publish: PublishCommand, reported: ReportedValues, birthType: BirthType): CommandChannel {
  return {
    transport: "sparkplug",
    async write(target, value, { timeoutMs, tolerance }) {
      const address = target.sparkplug;
      if (!address) throw new Error("the point has no Sparkplug binding");
      const { group, node, device, metric } = address;
      const type = (birthType(group, node, device, metric) ?? fallbackType[target.dataType]) as TypeStr;
      const readBack = reported.next(target.dataPointId, (v) => withinTolerance(v, value, tolerance), timeoutMs);
      await publish(commandTopic(group, node, device), encodeSparkplug({ timestamp: Date.now(), metrics: [{ name: metric, type, value: type === "Boolean" ? value === 1 : value }] }));
      return { readBack: await readBack };
    },
    async call(target) {
      const { group, node, device, metric } = target.address;
      if (!group || !node || !metric) throw new Error("the method has no Sparkplug address");
      await publish(commandTopic(group, node, device), encodeSparkplug({ timestamp: Date.now(), metrics: [{ name: metric, type: "Boolean", value: true }] }));
      return { confirmed: false };
    },
  };
}

const commandTopic = (group: string, node: string, device: string | undefined) =>
  sparkplugTopic({ group, node, ...(device === undefined ? { type: "NCMD" } : { type: "DCMD", device }) });
