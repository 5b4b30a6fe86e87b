import { Field, ID, ObjectType } from "type-graphql";
import { Reading } from "../data-point/data-point.type.js";

@ObjectType("ReadingAdded", { description: "A reading just committed to the telemetry store." })
export class ReadingAdded extends Reading {
  @Field(() => ID)
  machineId!: string;

  @Field(() => ID)
  dataPointId!: string;

  @Field(() => String)
  metric!: string;
}
