import { Args, Authorized, Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { bucketSeries, MAX_SERIES_POINTS, rawSeries } from "../../telemetry/telemetry.queries.js";
import { toMachine, Machine } from "../asset/asset.type.js";
import type { GraphqlContext } from "../context.js";
import { badInput } from "../relay/node.type.js";
import { SeriesArgs } from "./data-point.args.js";
import { DataPoint, Reading, SeriesPoint } from "./data-point.type.js";
import { durationSeconds } from "./iso-duration.js";

@Resolver(() => DataPoint)
export class DataPointResolver {
  @FieldResolver(() => Machine)
  async machine(@Root() point: DataPoint, @Ctx() ctx: GraphqlContext): Promise<Machine> {
    return toMachine((await ctx.loaders.machine.load(point.machineId))!);
  }

  @Authorized("telemetry.read")
  @FieldResolver(() => Reading, { nullable: true, description: "The newest reading; null until one arrives." })
  async latest(@Root() point: DataPoint, @Ctx() ctx: GraphqlContext): Promise<Reading | undefined> {
    const latest = await ctx.loaders.latest.load(point.dbId);
    return latest && Object.assign(new Reading(), latest);
  }

  @Authorized("telemetry.read")
  @FieldResolver(() => [SeriesPoint], { description: "Readings in [from, to), oldest first: raw, or per time bucket." })
  async series(@Root() point: DataPoint, @Args(() => SeriesArgs) args: SeriesArgs, @Ctx() ctx: GraphqlContext): Promise<SeriesPoint[]> {
    if (args.to <= args.from) throw badInput("`to` must be later than `from`", "to");
    const points = args.bucket === undefined ? await this.raw(point, args, ctx) : await this.buckets(point, args, args.bucket, ctx);
    return points.map((p) => Object.assign(new SeriesPoint(), p));
  }

  private raw(point: DataPoint, args: SeriesArgs, ctx: GraphqlContext) {
    if (!Number.isInteger(args.limit) || args.limit < 1 || args.limit > MAX_SERIES_POINTS) {
      throw badInput(`\`limit\` must be a whole number from 1 to ${MAX_SERIES_POINTS}`, "limit");
    }
    return rawSeries(ctx.database, point.dbId, { from: args.from, to: args.to, limit: args.limit });
  }

  private buckets(point: DataPoint, args: SeriesArgs, bucket: string, ctx: GraphqlContext) {
    const bucketSeconds = durationSeconds(bucket);
    if (bucketSeconds === undefined) {
      throw badInput("`bucket` must be a positive ISO 8601 duration in weeks, days, hours, minutes or seconds (e.g. PT1M)", "bucket");
    }
    const count = (args.to.getTime() - args.from.getTime()) / 1000 / bucketSeconds;
    if (count > MAX_SERIES_POINTS) {
      throw badInput(`that range holds ${Math.ceil(count)} buckets; at most ${MAX_SERIES_POINTS} can be asked for`, "bucket");
    }
    return bucketSeries(ctx.database, point.dbId, { from: args.from, to: args.to, bucketSeconds });
  }
}
