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
  /** The point's OPC UA binding: the variable, by NodeId or browse path, on an endpoint. */
  opcua?: { endpointId: number; nodeId: string | null; browsePath: string | null };
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
 * timeout; `before` where the channel read the value just before writing (OPC UA). `call` calls a
 * method: `confirmed` when the transport answers with a result (OPC UA), false when it only
 * delivers (MQTT, Sparkplug). Both throw when the command could not be sent, and throw
 * CommandRefused when the machine received it and answered that it failed.
 */
export interface CommandChannel {
  readonly transport: CommandTransport;
  write(target: CommandTarget, value: number, options: WriteOptions): Promise<{ readBack: number | undefined; before?: number }>;
  call(target: MethodTarget, args: Record<string, unknown>): Promise<{ confirmed: boolean; result?: unknown }>;
}

/** The machine received the command and answered with a failure (an OPC UA Bad status): it was sent, and refused. */
export class CommandRefused extends Error {
  override readonly name = "CommandRefused";
}

/** The channels a process has, by transport. */
export type CommandChannels = ReadonlyMap<CommandTransport, CommandChannel>;

export function commandChannels(...channels: CommandChannel[]): CommandChannels {
  return new Map(channels.map((channel) => [channel.transport, channel]));
}

export const withinTolerance = (readBack: number, value: number, tolerance: number) => Math.abs(readBack - value) <= tolerance + Number.EPSILON * Math.abs(value);
