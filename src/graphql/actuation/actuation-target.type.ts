import { Field, Float, ObjectType, registerEnumType } from "type-graphql";
import { commandTransports, type CommandTransport } from "../../../schema/db/actuation.js";
import type { ActuationLimitRow, MachineMethodRow } from "../../actuation/actuation-targets.store.js";
import { upperEnum } from "../enum.js";

export const CommandTransportEnum = upperEnum(commandTransports);
registerEnumType(CommandTransportEnum, { name: "CommandTransport", description: "How commands reach the machine: a plain MQTT topic, Sparkplug B DCMD/NCMD, or OPC UA." });

@ObjectType("ActuationLimits", { description: "What makes a data point writable: the command route and the limits every write must keep." })
export class ActuationLimits {
  @Field(() => CommandTransportEnum)
  transport!: CommandTransport;

  @Field(() => String, { nullable: true, description: "The plain MQTT command topic." })
  commandTopic!: string | null;

  @Field(() => Float, { nullable: true })
  min!: number | null;

  @Field(() => Float, { nullable: true })
  max!: number | null;

  @Field(() => Float, { nullable: true, description: "Largest change from the current value in one write." })
  maxStep!: number | null;

  @Field(() => Float, { nullable: true, description: "Shortest time between two writes sent." })
  minIntervalSeconds!: number | null;

  @Field(() => Boolean, { description: "Each write waits for a second person's approval." })
  critical!: boolean;

  @Field(() => Boolean, { description: "Automations may ask to write it." })
  allowAutomation!: boolean;

  @Field(() => Float, { description: "A read-back within this much of the written value confirms it." })
  tolerance!: number;
}

@ObjectType("MachineMethod", { description: "A command the machine offers, called with callMachineMethod." })
export class MachineMethod {
  @Field(() => String)
  name!: string;

  @Field(() => CommandTransportEnum)
  transport!: CommandTransport;

  @Field(() => Float, { nullable: true, description: "Shortest time between two calls sent." })
  minIntervalSeconds!: number | null;

  @Field(() => Boolean, { description: "Each call waits for a second person's approval." })
  critical!: boolean;

  @Field(() => Boolean, { description: "Automations may ask to call it." })
  allowAutomation!: boolean;
}

const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);

export const toActuationLimits = (row: ActuationLimitRow): ActuationLimits =>
  Object.assign(new ActuationLimits(), {
    transport: row.transport,
    commandTopic: row.commandTopic,
    min: row.min,
    max: row.max,
    maxStep: row.maxStep,
    minIntervalSeconds: seconds(row.minIntervalMs),
    critical: row.critical,
    allowAutomation: row.allowAutomation,
    tolerance: row.tolerance,
  });

export const toMachineMethod = (row: MachineMethodRow): MachineMethod =>
  Object.assign(new MachineMethod(), { name: row.name, transport: row.transport, minIntervalSeconds: seconds(row.minIntervalMs), critical: row.critical, allowAutomation: row.allowAutomation });
