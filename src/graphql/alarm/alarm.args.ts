import { ArgsType, Field, ID, InputType } from "type-graphql";
import { PageArgs } from "../relay/connection.js";
import type { AlarmState } from "../../../schema/db/events.js";
import { AlarmStateEnum } from "./alarm.type.js";

@InputType("AlarmFilter")
export class AlarmFilter {
  @Field(() => ID, { nullable: true })
  machineId?: string;

  @Field(() => [AlarmStateEnum], { nullable: true, description: "Any of these states; every state when absent." })
  state?: AlarmState[];

  @Field(() => Boolean, { defaultValue: true, description: "false leaves out alarms shelved now." })
  includeShelved!: boolean;
}

@ArgsType()
export class AlarmsArgs extends PageArgs {
  @Field(() => AlarmFilter, { nullable: true })
  filter?: AlarmFilter;
}
