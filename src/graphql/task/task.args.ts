import { ArgsType, Field, ID, InputType } from "type-graphql";
import { PageArgs } from "../relay/connection.js";
import type { TaskStatus } from "../../../schema/db/tasks.js";
import { TaskStatusEnum } from "./task.type.js";

@InputType("TaskFilter")
export class TaskFilter {
  @Field(() => ID, { nullable: true })
  machineId?: string;

  @Field(() => ID, { nullable: true })
  alarmId?: string;

  @Field(() => [TaskStatusEnum], { nullable: true, description: "Any of these statuses; every status when absent." })
  status?: TaskStatus[];

  @Field(() => ID, { nullable: true })
  integrationId?: string;
}

@ArgsType()
export class TasksArgs extends PageArgs {
  @Field(() => TaskFilter, { nullable: true })
  filter?: TaskFilter;
}

@ArgsType()
export class MachineChangeArgs {
  @Field(() => ID, { nullable: true, description: "Only this machine's; all of your sites' when absent." })
  machineId?: string;
}
