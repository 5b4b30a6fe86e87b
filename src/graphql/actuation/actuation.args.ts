import { ArgsType, Field, ID, InputType } from "type-graphql";
import type { ActuationStatus } from "../../../schema/db/actuation.js";
import { PageArgs } from "../relay/connection.js";
import { ActuationStatusEnum } from "./actuation.type.js";

@InputType("ActuationFilter")
export class ActuationFilter {
  @Field(() => ID, { nullable: true })
  machineId?: string;

  @Field(() => [ActuationStatusEnum], { nullable: true, description: "Any of these statuses; every status when absent." })
  status?: ActuationStatus[];
}

@ArgsType()
export class ActuationsArgs extends PageArgs {
  @Field(() => ActuationFilter, { nullable: true })
  filter?: ActuationFilter;
}
