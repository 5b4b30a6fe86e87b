import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { approveActuation, rejectActuation, requestMethodCall, requestSetpoint, type ActuationResult } from "../../actuation/actuation.service.js";
import { scopedSites } from "../../auth/identity.js";
import type { Tx } from "../../db/database.js";
import { AfterCommit } from "../../events/after-commit.js";
import { subscribedMachine } from "../alarm/alarm.resolver.js";
import { Machine, toMachine } from "../asset/asset.type.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { idConnection, type ConnectionOf } from "../relay/connection.js";
import { decodeIdCursor, pageSize, parseDatabaseId } from "../relay/node.type.js";
import { machineVisible, visibleMachine } from "../scope.js";
import { visibleChanges } from "../subscription.js";
import { MachineChangeArgs } from "../task/task.args.js";
import { userError } from "../user-error.type.js";
import { ActuationsArgs } from "./actuation.args.js";
import { CallMachineMethodInput, WriteSetpointInput } from "./actuation.input.js";
import { actuationById, pageActuations, type ActuationWithPoint } from "./actuation.queries.js";
import { Actuation, ActuationConnection, ActuationEdge, ActuationPayload, toActuation } from "./actuation.type.js";

const NOT_FOUND = "no setpoint write or method call has this id";

@Resolver(() => Actuation)
export class ActuationResolver {
  @Authorized("actuation.read")
  @Query(() => ActuationConnection, { description: "Setpoint writes and method calls on machines of your sites, newest first." })
  async actuations(@Args(() => ActuationsArgs) args: ActuationsArgs, @Ctx() ctx: GraphqlContext): Promise<ConnectionOf<Actuation>> {
    const limit = pageSize(args.first);
    const beforeId = decodeIdCursor(args.after);
    const machineId = args.filter?.machineId == null ? undefined : ((await visibleMachine(ctx, args.filter.machineId))?.id ?? 0);
    const page = await pageActuations(ctx.database.db, { machineId, statuses: args.filter?.status ?? undefined, sites: scopedSites(ctx.identity.scope) }, { beforeId, limit: limit + 1 });
    return idConnection({ Edge: ActuationEdge, Connection: ActuationConnection }, page, limit, beforeId, (row) => row.request.id, toActuation);
  }

  @Authorized("actuation.read")
  @Query(() => Actuation, { nullable: true, description: "Null when nothing has this id or its machine is outside your sites." })
  async actuation(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<Actuation | undefined> {
    const row = await findVisible(ctx, id);
    return row && toActuation(row);
  }

  @Authorized("actuation.read")
  @Subscription(() => Actuation, {
    description: "Setpoint writes and method calls on machines of your sites (or of one machine) each time their status changes: requested, approved, sent, confirmed ...",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, MachineChangeArgs, GraphqlContext>) => {
      const machineId = await subscribedMachine(context, args.machineId);
      return visibleChanges(
        context.pubsub.subscribe("ACTUATION_CHANGED"),
        (change) => machineId === undefined || change.machineId === machineId,
        async (change) => {
          const row = await actuationById(context.database.db, change.actuationId);
          return row && machineVisible(context, await context.loaders.machine.load(row.request.machineId)) ? row : undefined;
        },
      );
    },
  })
  actuationChanged(@Root() row: ActuationWithPoint, @Args(() => MachineChangeArgs) _args: MachineChangeArgs): Actuation {
    return toActuation(row);
  }

  @FieldResolver(() => Machine)
  async machine(@Root() actuation: Actuation, @Ctx() ctx: GraphqlContext): Promise<Machine> {
    return toMachine((await ctx.loaders.machine.load(actuation.machineId))!);
  }

  @Authorized("machine.actuate")
  @Mutation(() => ActuationPayload, {
    description: "Writes a setpoint within the point's limits: sent at once, or PENDING_APPROVAL on a critical point; follow it with `actuation(id)`.",
  })
  async writeSetpoint(@Arg("input", () => WriteSetpointInput) input: WriteSetpointInput, @Ctx() ctx: GraphqlContext): Promise<ActuationPayload> {
    const machine = await visibleMachine(ctx, input.machineId);
    if (!machine) return { errors: [userError(["input", "machineId"], "no machine has this id")] };
    const { actor, requestId } = actorOf(ctx);
    return decide(ctx, ["input"], (tx, after) =>
      requestSetpoint(tx, after, { machineId: machine.id, point: input.point, value: input.value, reason: input.reason, dryRun: input.dryRun, requester: { id: actor, kind: "person" }, requestId }),
    );
  }

  @Authorized("machine.actuate")
  @Mutation(() => ActuationPayload, {
    description: "Calls one of the machine's methods: sent at once, or PENDING_APPROVAL for a critical method; follow it with `actuation(id)`.",
  })
  async callMachineMethod(@Arg("input", () => CallMachineMethodInput) input: CallMachineMethodInput, @Ctx() ctx: GraphqlContext): Promise<ActuationPayload> {
    const args = input.arguments ?? {};
    if (typeof args !== "object" || args === null || Array.isArray(args)) return { errors: [userError(["input", "arguments"], "expected a JSON object")] };
    const machine = await visibleMachine(ctx, input.machineId);
    if (!machine) return { errors: [userError(["input", "machineId"], "no machine has this id")] };
    const { actor, requestId } = actorOf(ctx);
    return decide(ctx, ["input"], (tx, after) =>
      requestMethodCall(tx, after, { machineId: machine.id, method: input.method, arguments: args as Record<string, unknown>, reason: input.reason, dryRun: input.dryRun, requester: { id: actor, kind: "person" }, requestId }),
    );
  }

  @Authorized("actuation.approve")
  @Mutation(() => ActuationPayload, { description: "Approves someone else's request on a critical target; its limits are checked again now." })
  async approveActuation(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<ActuationPayload> {
    if (!(await findVisible(ctx, id))) return { errors: [userError(["id"], NOT_FOUND)] };
    return decide(ctx, [], (tx, after) => approveActuation(tx, after, Number(id), { id: ctx.identity.id, requestId: ctx.requestId }));
  }

  @Authorized("actuation.approve")
  @Mutation(() => ActuationPayload, { description: "Rejects a request waiting for approval." })
  async rejectActuation(@Arg("id", () => ID) id: string, @Arg("reason", () => String) reason: string, @Ctx() ctx: GraphqlContext): Promise<ActuationPayload> {
    if (!(await findVisible(ctx, id))) return { errors: [userError(["id"], NOT_FOUND)] };
    return decide(ctx, [], (tx, after) => rejectActuation(tx, after, Number(id), { id: ctx.identity.id, requestId: ctx.requestId }, reason));
  }
}

async function findVisible(ctx: GraphqlContext, id: string): Promise<ActuationWithPoint | undefined> {
  const numeric = parseDatabaseId(id);
  const row = numeric === undefined ? undefined : await actuationById(ctx.database.db, numeric);
  return row && machineVisible(ctx, await ctx.loaders.machine.load(row.request.machineId)) ? row : undefined;
}

/** One decision in one transaction; the actuator and subscribers hear of it after the commit. `root`: the path of the fields the step names. */
async function decide(ctx: GraphqlContext, root: string[], step: (tx: Tx, after: AfterCommit) => Promise<ActuationResult>): Promise<ActuationPayload> {
  const after = new AfterCommit();
  const result = await ctx.database.db.transaction((tx) => step(tx, after));
  await after.flush(ctx.queues, ctx.pubsub, ctx.log);
  if (!result.ok) return { errors: [userError([...root, result.field], result.message)] };
  return { actuation: toActuation((await actuationById(ctx.database.db, result.row.id))!), errors: [] };
}
