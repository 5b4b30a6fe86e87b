import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { scopedSites } from "../../auth/identity.js";
import type { TaskStatus } from "../../../schema/db/tasks.js";
import { AfterCommit } from "../../events/after-commit.js";
import { applyStatusChange } from "../../tasks/task.service.js";
import { subscribedMachine } from "../alarm/alarm.resolver.js";
import { alarmById } from "../alarm/alarm.queries.js";
import { Alarm, toAlarm } from "../alarm/alarm.type.js";
import { Machine, toMachine } from "../asset/asset.type.js";
import type { GraphqlContext } from "../context.js";
import { idConnection, type ConnectionOf } from "../relay/connection.js";
import { decodeIdCursor, pageSize, parseDatabaseId } from "../relay/node.type.js";
import { machineVisible, visibleMachine } from "../scope.js";
import { visibleChanges } from "../subscription.js";
import { userError } from "../user-error.type.js";
import { MachineChangeArgs, TasksArgs } from "./task.args.js";
import { taskById, pageTasks, type TaskWithIntegration } from "./task.queries.js";
import { Task, TaskConnection, TaskEdge, TaskPayload, TaskStatusEnum, toTask } from "./task.type.js";

const NOT_FOUND = "no task has this id";
/** Only the hub's own board takes status changes here; every other tool is where its tasks change. */
const BOARD_KIND = "builtin";

@Resolver(() => Task)
export class TaskResolver {
  @Authorized("task.read")
  @Query(() => TaskConnection, { description: "Tasks of the machines of your sites, newest first; machine-less ones only with access to every site." })
  async tasks(@Args(() => TasksArgs) args: TasksArgs, @Ctx() ctx: GraphqlContext): Promise<ConnectionOf<Task>> {
    const limit = pageSize(args.first);
    const beforeId = decodeIdCursor(args.after);
    const filter = args.filter;
    // Ids that name nothing (or nothing visible) match no task.
    const idOf = (id: string | null | undefined) => (id == null ? undefined : (parseDatabaseId(id) ?? 0));
    const machineId = filter?.machineId == null ? undefined : ((await visibleMachine(ctx, filter.machineId))?.id ?? 0);
    const page = await pageTasks(
      ctx.database.db,
      {
        machineId,
        alarmId: idOf(filter?.alarmId),
        integrationId: idOf(filter?.integrationId),
        statuses: filter?.status ?? undefined,
        sites: scopedSites(ctx.identity.scope),
      },
      { beforeId, limit: limit + 1 },
    );
    return idConnection({ Edge: TaskEdge, Connection: TaskConnection }, page, limit, beforeId, (row) => row.task.id, toTask);
  }

  @FieldResolver(() => Machine, { nullable: true })
  async machine(@Root() task: Task, @Ctx() ctx: GraphqlContext): Promise<Machine | undefined> {
    const row = task.machineId === null ? undefined : await ctx.loaders.machine.load(task.machineId);
    return row && toMachine(row);
  }

  @Authorized("alarm.read")
  @FieldResolver(() => Alarm, { nullable: true, description: "The alarm the task was opened for." })
  async alarm(@Root() task: Task, @Ctx() ctx: GraphqlContext): Promise<Alarm | undefined> {
    const row = task.alarmId === null ? undefined : await alarmById(ctx.database.db, task.alarmId);
    return row && toAlarm(row);
  }

  @Authorized("task.update")
  @Mutation(() => TaskPayload, { description: "Moves a task of the built-in board: in progress puts its machine in maintenance, done acknowledges its alarm." })
  async setTaskStatus(
    @Arg("id", () => ID) id: string,
    @Arg("status", () => TaskStatusEnum) status: TaskStatus,
    @Ctx() ctx: GraphqlContext,
  ): Promise<TaskPayload> {
    const current = await findVisibleTask(ctx, id);
    if (!current) return { errors: [userError(["id"], NOT_FOUND)] };
    const { kind } = current.integration;
    if (kind !== BOARD_KIND) return { errors: [userError(["status"], `status of ${kind} tasks changes in the tool`)] };
    const after = new AfterCommit();
    await ctx.database.db.transaction((tx) =>
      applyStatusChange(tx, after, current.task.integrationId, { externalId: current.task.externalId, status, externalStatus: status, at: new Date().toISOString() }, ctx.identity.id),
    );
    await after.flush(ctx.queues, ctx.pubsub, ctx.log);
    return { task: toTask((await taskById(ctx.database.db, current.task.id))!), errors: [] };
  }

  @Authorized("task.read")
  @Subscription(() => Task, {
    description: "Tasks of your sites (or of one machine) as they are created or change status.",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, MachineChangeArgs, GraphqlContext>) => {
      const machineId = await subscribedMachine(context, args.machineId);
      return visibleChanges(
        context.pubsub.subscribe("TASK_CHANGED"),
        (change) => machineId === undefined || change.machineId === machineId,
        async (change) => {
          const row = await taskById(context.database.db, change.taskId);
          return row && (await taskVisible(context, row)) ? row : undefined;
        },
      );
    },
  })
  taskChanged(@Root() row: TaskWithIntegration, @Args(() => MachineChangeArgs) _args: MachineChangeArgs): Task {
    return toTask(row);
  }
}

/** A task is as visible as its machine; a machine-less task only to identities that see every site. */
async function taskVisible(ctx: GraphqlContext, row: TaskWithIntegration): Promise<boolean> {
  if (row.task.machineId === null) return ctx.identity.scope.all;
  return machineVisible(ctx, await ctx.loaders.machine.load(row.task.machineId));
}

async function findVisibleTask(ctx: GraphqlContext, id: string): Promise<TaskWithIntegration | undefined> {
  const numeric = parseDatabaseId(id);
  const row = numeric === undefined ? undefined : await taskById(ctx.database.db, numeric);
  return row && (await taskVisible(ctx, row)) ? row : undefined;
}
