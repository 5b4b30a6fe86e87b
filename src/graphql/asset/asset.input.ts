import { Field, Float, ID, InputType, ObjectType } from "type-graphql";
import { DataPoint, DataTypeEnum } from "../data-point/data-point.type.js";
import type { DataType } from "../../../schema/db/assets.js";
import { UserError } from "../user-error.type.js";
import { Machine } from "./asset.type.js";

@InputType("UpsertMachineInput", { description: "Creates the machine (and any missing site, area, line) or updates it." })
export class UpsertMachineInput {
  @Field(() => String)
  enterprise!: string;

  @Field(() => String)
  site!: string;

  @Field(() => String)
  area!: string;

  @Field(() => String)
  line!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  displayName?: string;

  @Field(() => String, { nullable: true, description: "IANA time zone of the site; left as it is when absent." })
  siteTimezone?: string;
}

@InputType("UpsertDataPointInput", { description: "Creates or updates the data point of that name on the machine." })
export class UpsertDataPointInput {
  @Field(() => ID)
  machineId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  unit?: string;

  @Field(() => DataTypeEnum, { defaultValue: "float" })
  dataType!: DataType;

  @Field(() => Float, { nullable: true })
  normalMin?: number;

  @Field(() => Float, { nullable: true })
  normalMax?: number;

  @Field(() => String, { nullable: true, description: "MQTT topic filter; default: the machine path plus the name." })
  mqttTopic?: string;

  @Field(() => String, { nullable: true, description: "Field of a JSON object payload carrying this point." })
  mqttField?: string;

  @Field(() => String, { nullable: true, description: "Sparkplug B group id; with sparkplugNode the point is read from that edge node, not from a plain topic." })
  sparkplugGroup?: string;

  @Field(() => String, { nullable: true, description: "Sparkplug B edge node id." })
  sparkplugNode?: string;

  @Field(() => String, { nullable: true, description: "Sparkplug B device id; absent: a metric of the edge node itself." })
  sparkplugDevice?: string;

  @Field(() => String, { nullable: true, description: "Sparkplug B metric name; default: the point's name." })
  sparkplugMetric?: string;
}

@ObjectType("MachinePayload")
export class MachinePayload {
  @Field(() => Machine, { nullable: true })
  machine?: Machine;

  @Field(() => [UserError])
  errors!: UserError[];
}

@ObjectType("DataPointPayload")
export class DataPointPayload {
  @Field(() => DataPoint, { nullable: true })
  dataPoint?: DataPoint;

  @Field(() => [UserError])
  errors!: UserError[];
}

@ObjectType("DeletePayload")
export class DeletePayload {
  @Field(() => ID, { nullable: true, description: "The id that was deleted; null when nothing was." })
  deletedId?: string;

  @Field(() => [UserError])
  errors!: UserError[];
}
