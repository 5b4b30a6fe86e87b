import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";
import { scopedSites } from "../../auth/identity.js";
import { pageMachines } from "../../assets/asset.queries.js";
import type { LatestValue } from "../../telemetry/latest-values.js";
import { deriveMachineState, type MachineState } from "../../telemetry/machine-state.js";
import type { GraphqlContext } from "../context.js";
import { machineVisible } from "../scope.js";
import { DataPoint, toDataPoint } from "../data-point/data-point.type.js";
import { pageOf } from "../relay/connection.js";
import { decodeCursor, pageSize, parseGlobalId } from "../relay/node.type.js";
import { Line, Machine, MachineConnection, MachineEdge, MachineStateEnum, toLine, toMachine } from "./asset.type.js";
import { MachinesArgs } from "./machine.args.js";

@Resolver(() => Machine)
export class MachineResolver {
  @Authorized("asset.read")
  @Query(() => MachineConnection, { description: "Machines of the sites you may see, ordered by path, a page at a time." })
  async machines(@Args(() => MachinesArgs) args: MachinesArgs, @Ctx() ctx: GraphqlContext): Promise<MachineConnection> {
    const limit = pageSize(args.first);
    const afterPath = args.after ? decodeCursor(args.after) : undefined;
    const { rows, totalCount } = await pageMachines(
      ctx.database.db,
      { pathPrefix: args.filter?.path, search: args.filter?.search, sites: scopedSites(ctx.identity.scope) },
      { afterPath, limit: limit + 1 },
    );
    const page = pageOf(rows, limit, afterPath !== undefined, (row) => row.path, (cursor, row) =>
      Object.assign(new MachineEdge(), { cursor, node: toMachine(row) }),
    );
    return Object.assign(new MachineConnection(), { ...page, totalCount });
  }

  @Authorized("asset.read")
  @Query(() => Machine, { nullable: true, description: "Null when no machine has this id or it is outside your sites." })
  async machine(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<Machine | undefined> {
    const parsed = parseGlobalId(id, "Machine");
    const row = parsed && (await ctx.loaders.machine.load(parsed.id));
    return machineVisible(ctx, row) ? toMachine(row) : undefined;
  }

  @FieldResolver(() => Line)
  async line(@Root() machine: Machine, @Ctx() ctx: GraphqlContext): Promise<Line> {
    return toLine((await ctx.loaders.line.load(machine.lineId))!);
  }

  @FieldResolver(() => [DataPoint])
  async metrics(@Root() machine: Machine, @Ctx() ctx: GraphqlContext): Promise<DataPoint[]> {
    return (await ctx.loaders.dataPointsOfMachine.load(machine.dbId)).map((row) => toDataPoint(row, machine.path));
  }

  @FieldResolver(() => DataPoint, { nullable: true })
  async metric(
    @Root() machine: Machine,
    @Arg("name", () => String) name: string,
    @Ctx() ctx: GraphqlContext,
  ): Promise<DataPoint | undefined> {
    const row = (await ctx.loaders.dataPointsOfMachine.load(machine.dbId)).find((p) => p.name === name);
    return row ? toDataPoint(row, machine.path) : undefined;
  }

  @Authorized("telemetry.read")
  @FieldResolver(() => MachineStateEnum, {
    description:
      "The state of its open interval (see the README for the sources and their precedence); before the state tracker has recorded one, MAINTENANCE while a task is in progress, OFFLINE while its source declares it dead (Sparkplug NDEATH/DDEATH), else derived from its latest readings.",
  })
  async state(@Root() machine: Machine, @Ctx() ctx: GraphqlContext): Promise<MachineState> {
    const open = await ctx.loaders.openInterval.load(machine.dbId);
    if (open) return open.state;
    // A task in progress means people are working on the machine, whatever its telemetry says.
    if (await ctx.loaders.inMaintenance.load(machine.dbId)) return "maintenance";
    if (await ctx.loaders.disconnected.load(machine.dbId)) return "offline";
    const points = await ctx.loaders.dataPointsOfMachine.load(machine.dbId);
    const latest = await ctx.loaders.latest.loadMany(points.map((p) => p.id));
    const byMetric = new Map<string, LatestValue>();
    points.forEach((p, i) => {
      const value = latest[i];
      if (value && !(value instanceof Error)) byMetric.set(p.name, value);
    });
    return deriveMachineState(byMetric, Date.now(), ctx.config.machineOfflineAfterSeconds * 1000);
  }
}
