import type { CommandTransport, MethodAddress } from "../../schema/db/actuation.js";
import type { DataType } from "../../schema/db/assets.js";

/** Where one write goes: the point, and its address on each transport it has one for. */
export interface CommandTarget {
  actuationId: number;
  dataPointId: number;
  dataType: DataType;
  /** The plain MQTT command topic. */
  commandTopic?: string;
  sparkplug?: { group: string; node: string; device?: string; metric: string };
  /** OPC UA (not yet bound): the variable's node id. */
  opcuaNodeId?: string;
}

export interface WriteOptions {
  /** How long to wait for the machine to hold the value. */
  timeoutMs: number;
  /** A read-back within this much of the written value confirms it. */
  tolerance: number;
}

/** A machine method's address, as machine_method.address stores it for the transport. */
export interface MethodTarget {
  actuationId: number;
  method: string;
  address: MethodAddress;
}

/**
 * One way of commanding machines. `write` sends the value and reads back what the machine then
 * holds (the value it reported, or the node read), or undefined when nothing came within the
 * timeout. `call` calls a method: `confirmed` when the transport answers with a result (OPC UA),
 * false when it only delivers (MQTT, Sparkplug). Both throw when the command could not be sent.
 */
export interface CommandChannel {
  readonly transport: CommandTransport;
  write(target: CommandTarget, value: number, options: WriteOptions): Promise<{ readBack: number | undefined }>;
  call(target: MethodTarget, args: Record<string, unknown>): Promise<{ confirmed: boolean; result?: unknown }>;
}

/** The channels a process has, by transport: an OPC UA channel joins as one more entry. */
export type CommandChannels = ReadonlyMap<CommandTransport, CommandChannel>;

export function commandChannels(...channels: CommandChannel[]): CommandChannels {
  return new Map(channels.map((channel) => [channel.transport, channel]));
}

export const withinTolerance = (readBack: number, value: number, tolerance: number) => Math.abs(readBack - value) <= tolerance + Number.EPSILON * Math.abs(value);
