import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import { scopedSites } from "../../auth/identity.js";
import { acknowledgeAlarm, shelveAlarm, type AlarmRow } from "../../alarms/alarm.service.js";
import type { Tx } from "../../db/database.js";
import { AfterCommit } from "../../events/after-commit.js";
import { machineContexts, type MachineContext } from "../../events/event-context.js";
import { EventWriter } from "../../events/event.store.js";
import { Machine, toMachine } from "../asset/asset.type.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { idConnection, type ConnectionOf } from "../relay/connection.js";
import { badInput, decodeIdCursor, pageSize, parseDatabaseId } from "../relay/node.type.js";
import { machineVisible, visibleMachine } from "../scope.js";
import { visibleChanges } from "../subscription.js";
import { MachineChangeArgs } from "../task/task.args.js";
import { Task, toTask } from "../task/task.type.js";
import { userError } from "../user-error.type.js";
import { AlarmsArgs } from "./alarm.args.js";
import { alarmById, pageAlarms, type AlarmWithRule } from "./alarm.queries.js";
import { Alarm, AlarmConnection, AlarmEdge, AlarmPayload, toAlarm } from "./alarm.type.js";

const NOT_FOUND = "no alarm has this id";
const CLEARED = "the alarm is cleared already";
const MAX_SHELVE_MS = 7 * 24 * 3600_000;

interface AlarmStep {
  tx: Tx;
  writer: EventWriter;
  after: AfterCommit;
  actor: string;
  requestId: string;
  alarm: AlarmWithRule;
  machine: MachineContext | undefined;
}

@Resolver(() => Alarm)
export class AlarmResolver {
  @Authorized("alarm.read")
  @Query(() => AlarmConnection, { description: "Alarms of the machines of your sites, newest first." })
  async alarms(@Args(() => AlarmsArgs) args: AlarmsArgs, @Ctx() ctx: GraphqlContext): Promise<ConnectionOf<Alarm>> {
    const limit = pageSize(args.first);
    const beforeId = decodeIdCursor(args.after);
    const filter = args.filter;
    let machineId: number | undefined;
    if (filter?.machineId != null) {
      const machine = await visibleMachine(ctx, filter.machineId);
      // An unknown or invisible machine has no alarms.
      machineId = machine?.id ?? 0;
    }
    const page = await pageAlarms(
      ctx.database.db,
      { machineId, states: filter?.state ?? undefined, includeShelved: filter?.includeShelved ?? true, sites: scopedSites(ctx.identity.scope) },
      { beforeId, limit: limit + 1 },
    );
    return idConnection({ Edge: AlarmEdge, Connection: AlarmConnection }, page, limit, beforeId, (row) => row.alarm.id, toAlarm);
  }

  @FieldResolver(() => Machine)
  async machine(@Root() alarm: Alarm, @Ctx() ctx: GraphqlContext): Promise<Machine> {
    return toMachine((await ctx.loaders.machine.load(alarm.machineId))!);
  }

  @Authorized("task.read")
  @FieldResolver(() => [Task], { description: "Tasks the alarm led to, newest first." })
  async tasks(@Root() alarm: Alarm, @Ctx() ctx: GraphqlContext): Promise<Task[]> {
    return (await ctx.loaders.tasksOfAlarm.load(alarm.dbId)).map(toTask);
  }

  @Authorized("alarm.acknowledge")
  @Mutation(() => AlarmPayload, { description: "Acknowledges an open alarm; one whose condition is gone clears with it." })
  async acknowledgeAlarm(
    @Arg("id", () => ID) id: string,
    @Arg("note", () => String, { nullable: true }) note: string | undefined,
    @Ctx() ctx: GraphqlContext,
  ): Promise<AlarmPayload> {
    return changeAlarm(ctx, id, (s) =>
      acknowledgeAlarm(s.tx, s.writer, s.after, s.actor, s.alarm.alarm.id, { machine: s.machine, ruleName: s.alarm.ruleName, note: note ?? undefined, requestId: s.requestId }),
    );
  }

  @Authorized("alarm.acknowledge")
  @Mutation(() => AlarmPayload, { description: "Shelves an open alarm until a time at most 7 days ahead: its events start no actions meanwhile." })
  async shelveAlarm(
    @Arg("id", () => ID) id: string,
    @Arg("until", () => DateTimeResolver) until: Date,
    @Arg("reason", () => String) reason: string,
    @Ctx() ctx: GraphqlContext,
  ): Promise<AlarmPayload> {
    const now = Date.now();
    if (!(until.getTime() > now)) return { errors: [userError(["until"], "must be in the future")] };
    if (until.getTime() - now > MAX_SHELVE_MS) return { errors: [userError(["until"], "must be at most 7 days ahead")] };
    if (reason.trim() === "") return { errors: [userError(["reason"], "say why the alarm is shelved")] };
    return changeAlarm(ctx, id, (s) => shelveAlarm(s.tx, s.after, s.actor, s.alarm.alarm.id, until, reason.trim(), s.requestId));
  }

  @Authorized("alarm.acknowledge")
  @Mutation(() => AlarmPayload, { description: "Ends the shelving of an alarm." })
  async unshelveAlarm(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<AlarmPayload> {
    return changeAlarm(ctx, id, (s) => shelveAlarm(s.tx, s.after, s.actor, s.alarm.alarm.id, null, "unshelved", s.requestId));
  }

  @Authorized("alarm.read")
  @Subscription(() => Alarm, {
    description: "Alarms of your sites (or of one machine) each time they change.",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, MachineChangeArgs, GraphqlContext>) => {
      const machineId = await subscribedMachine(context, args.machineId);
      return visibleChanges(
        context.pubsub.subscribe("ALARM_CHANGED"),
        (change) => machineId === undefined || change.machineId === machineId,
        async (change) => {
          const row = await alarmById(context.database.db, change.alarmId);
          return row && machineVisible(context, await context.loaders.machine.load(row.alarm.machineId)) ? row : undefined;
        },
      );
    },
  })
  alarmChanged(@Root() row: AlarmWithRule, @Args(() => MachineChangeArgs) _args: MachineChangeArgs): Alarm {
    return toAlarm(row);
  }
}

/** The machine a subscription is limited to; outside the subscriber's sites reads like an unknown id. */
export async function subscribedMachine(ctx: GraphqlContext, machineId: string | null | undefined): Promise<number | undefined> {
  if (machineId == null) return undefined;
  const machine = await visibleMachine(ctx, machineId);
  if (!machine) throw badInput("`machineId` is not a machine you can see", "machineId");
  return machine.id;
}

async function findVisibleAlarm(ctx: GraphqlContext, id: string): Promise<AlarmWithRule | undefined> {
  const numeric = parseDatabaseId(id);
  const row = numeric === undefined ? undefined : await alarmById(ctx.database.db, numeric);
  return row && machineVisible(ctx, await ctx.loaders.machine.load(row.alarm.machineId)) ? row : undefined;
}

/** One alarm change in one transaction; subscribers and workers hear of it after the commit. */
async function changeAlarm(ctx: GraphqlContext, id: string, step: (s: AlarmStep) => Promise<AlarmRow | undefined>): Promise<AlarmPayload> {
  const alarm = await findVisibleAlarm(ctx, id);
  if (!alarm) return { errors: [userError(["id"], NOT_FOUND)] };
  const { actor, requestId } = actorOf(ctx);
  const after = new AfterCommit();
  const changed = await ctx.database.db.transaction(async (tx) => {
    const machine = (await machineContexts(tx, [alarm.alarm.machineId])).get(alarm.alarm.machineId);
    return step({ tx, writer: new EventWriter(tx, after, actor), after, actor, requestId, alarm, machine });
  });
  await after.flush(ctx.queues, ctx.pubsub, ctx.log);
  if (!changed) return { errors: [userError(["id"], CLEARED)] };
  return { alarm: toAlarm((await alarmById(ctx.database.db, changed.id))!), errors: [] };
}
