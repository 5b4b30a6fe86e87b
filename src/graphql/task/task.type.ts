import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import { taskStatuses, type TaskStatus } from "../../../schema/db/tasks.js";
import { upperEnum } from "../enum.js";
import { IntegrationRef, toIntegrationRef } from "../integration/integration.type.js";
import { connectionTypes } from "../relay/connection.js";
import { UserError } from "../user-error.type.js";
import type { TaskWithIntegration } from "./task.queries.js";

export const TaskStatusEnum = upperEnum(taskStatuses);
registerEnumType(TaskStatusEnum, { name: "TaskStatus", description: "Where a task stands, whatever its tool calls it." });

@ObjectType("Task", { description: "A task or ticket an automation opened in a work tool or on the built-in board." })
export class Task {
  @Field(() => ID)
  id!: string;

  machineId!: number | null;
  alarmId!: number | null;

  @Field(() => IntegrationRef)
  integration!: IntegrationRef;

  @Field(() => String)
  title!: string;

  @Field(() => String, { nullable: true })
  assignee!: string | null;

  @Field(() => TaskStatusEnum)
  status!: TaskStatus;

  @Field(() => String, { description: "The tool's own name for the status." })
  externalStatus!: string;

  @Field(() => String, { description: "The tool's id of the task." })
  externalId!: string;

  @Field(() => String, { nullable: true, description: "The key people see in the tool (PROJ-12), when it differs from the id." })
  externalKey!: string | null;

  @Field(() => String, { nullable: true, description: "Link to the task in the tool." })
  url!: string | null;

  @Field(() => DateTimeResolver)
  createdAt!: Date;

  @Field(() => DateTimeResolver)
  statusChangedAt!: Date;

  @Field(() => String, { nullable: true, description: "Who changed the status last (identity, or the person in the tool)." })
  statusChangedBy!: string | null;
}

export const { Edge: TaskEdge, Connection: TaskConnection } = connectionTypes(Task, "Task");

@ObjectType("TaskPayload")
export class TaskPayload {
  @Field(() => Task, { nullable: true })
  task?: Task;

  @Field(() => [UserError])
  errors!: UserError[];
}

export const toTask = ({ task, integration }: TaskWithIntegration) =>
  Object.assign(new Task(), {
    id: String(task.id),
    machineId: task.machineId,
    alarmId: task.alarmId,
    integration: toIntegrationRef(integration),
    title: task.title,
    assignee: task.assignee,
    status: task.status,
    externalStatus: task.externalStatus,
    externalId: task.externalId,
    externalKey: task.externalKey,
    url: task.url,
    createdAt: task.createdAt,
    statusChangedAt: task.statusChangedAt,
    statusChangedBy: task.statusChangedBy,
  });
