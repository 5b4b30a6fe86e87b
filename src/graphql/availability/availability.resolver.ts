import { DateTime } from "luxon";
import { DateTimeResolver, JSONObjectResolver } from "graphql-scalars";
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { cycleTimes } from "../../availability/cycle-times.js";
import { kpisOf } from "../../availability/kpi.service.js";
import { machineStateConfig } from "../../availability/state-config.js";
import { saveStateConfig, stateConfigOf, stateConfigs, StateConfigPointMissing } from "../../availability/state-config.service.js";
import { intervalById, intervalsBetween, recordProduction, setIntervalReason } from "../../availability/state.store.js";
import { recordAudit } from "../../audit/audit.js";
import { shiftOccurrences } from "../../calendar/calendar.js";
import { calendarOf, saveCalendar } from "../../calendar/calendar.service.js";
import { calendarSpec } from "../../calendar/calendar.schema.js";
import { subscribedMachine } from "../alarm/alarm.resolver.js";
import { Line, Machine, Site } from "../asset/asset.type.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { badInput, parseDatabaseId } from "../relay/node.type.js";
import { machineVisible, visibleMachine } from "../scope.js";
import { visibleChanges } from "../subscription.js";
import { MachineChangeArgs } from "../task/task.args.js";
import { userError, userErrorsFromZod } from "../user-error.type.js";
import { IntervalRangeArgs, KpisArgs, ShiftKpisArgs } from "./availability.args.js";
import { visibleAsset } from "./asset-scope.js";
import {
  CycleTimeStats,
  KpisType,
  MachineStateConfigPayload,
  MachineStateInterval,
  MachineStateIntervalPayload,
  QualityResultPayload,
  ShiftCalendarPayload,
  ShiftKpis,
  toInterval,
  toKpis,
} from "./availability.type.js";

const MAX_SPAN_MS = 400 * 86_400_000;
const reasonCode = /^[a-z][a-z0-9_]{0,63}$/;

/** [from, to) as epoch ms; a reversed or over-long range is bad input. */
export function range(from: Date, to: Date): [number, number] {
  const [a, b] = [from.getTime(), to.getTime()];
  if (!(b > a)) throw badInput("`to` must be after `from`", "to");
  if (b - a > MAX_SPAN_MS) throw badInput("at most 400 days at once", "to");
  return [a, b];
}

@Resolver()
export class AvailabilityResolver {
  @Authorized("telemetry.read")
  @Query(() => KpisType, { nullable: true, description: "ISO 22400-2 KPIs of a site, area, line or machine over [from, to); null when the asset is not one you can see." })
  async kpis(@Args(() => KpisArgs) args: KpisArgs, @Ctx() ctx: GraphqlContext): Promise<KpisType | undefined> {
    const [from, to] = range(args.from, args.to);
    const asset = await visibleAsset(ctx, args.assetId);
    if (!asset) return undefined;
    const now = Date.now();
    return toKpis(await kpisOf(ctx.database, asset.machineIds, from, to, now, asset.wholeLines), from, Math.min(to, Math.max(from, now)));
  }

  @Authorized("telemetry.read")
  @Query(() => [ShiftKpis], { description: "KPIs of each shift that starts on a local date, from the calendar of the asset's line (else its site)." })
  async shiftKpis(@Args(() => ShiftKpisArgs) args: ShiftKpisArgs, @Ctx() ctx: GraphqlContext): Promise<ShiftKpis[]> {
    const asset = await visibleAsset(ctx, args.assetId);
    if (!asset) return [];
    const day = DateTime.fromISO(args.date, { zone: asset.timezone });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(args.date) || !day.isValid) throw badInput('expected a date "YYYY-MM-DD"', "date");
    const spec = (asset.lineId !== undefined ? await calendarOf(ctx.database.db, { siteId: asset.siteId, lineId: asset.lineId }) : undefined) ?? (await calendarOf(ctx.database.db, { siteId: asset.siteId }));
    if (!spec) return [];
    const shifts = shiftOccurrences(spec, asset.timezone, day.toMillis(), day.plus({ days: 1 }).toMillis()).filter((s) => s.date === args.date);
    const now = Date.now();
    return Promise.all(
      shifts.map(async (s) => Object.assign(new ShiftKpis(), { shift: s.name, date: s.date, from: new Date(s.from), to: new Date(s.to), kpis: toKpis(await kpisOf(ctx.database, asset.machineIds, s.from, s.to, now, asset.wholeLines), s.from, Math.min(s.to, Math.max(s.from, now))) })),
    );
  }

  @Authorized("downtime.annotate")
  @Mutation(() => MachineStateIntervalPayload, { description: "Sets the reason code of a state interval (a downtime's cause); the KPIs' Pareto follows." })
  async setDowntimeReason(@Arg("intervalId", () => ID) intervalId: string, @Arg("reason", () => String) reason: string, @Ctx() ctx: GraphqlContext): Promise<MachineStateIntervalPayload> {
    const numeric = parseDatabaseId(intervalId);
    const found = numeric === undefined ? undefined : await intervalById(ctx.database.db, numeric);
    if (!found || !machineVisible(ctx, await ctx.loaders.machine.load(found.machineId))) return { errors: [userError(["intervalId"], "no state interval has this id")] };
    if (!reasonCode.test(reason)) return { errors: [userError(["reason"], "expected a reason code: lower-case letters, digits and '_'")] };
    if (found.state === "running" || found.state === "planned_stop") return { errors: [userError(["intervalId"], `a ${found.state} interval takes no downtime reason`)] };
    const { actor, requestId } = actorOf(ctx);
    const updated = await ctx.database.db.transaction(async (tx) => {
      const row = await setIntervalReason(tx, found.id, reason);
      await recordAudit(tx, { actor, action: "downtime_reason.set", entityType: "machine_state_interval", entityId: found.id, oldValue: { reason: found.reason }, newValue: { reason }, requestId });
      return row!;
    });
    ctx.pubsub.publish("MACHINE_STATE_CHANGED", { machineId: updated.machineId, intervalId: updated.id, state: updated.state, reason: updated.reason, source: updated.source, since: new Date(updated.startedAt).toISOString() });
    return { interval: toInterval(updated), errors: [] };
  }

  @Authorized("quality.report")
  @Mutation(() => QualityResultPayload, { description: "Parts a machine produced that inspection found scrap (a quality result). They leave the good quantity of the minute given (now by default) and count as scrap." })
  async recordScrap(
    @Arg("machineId", () => ID) machineId: string,
    @Arg("scrap", () => Int) scrap: number,
    @Arg("product", () => String, { nullable: true, description: "The product; the parts counted without an order when left out." }) product: string | undefined,
    @Arg("at", () => DateTimeResolver, { nullable: true }) at: Date | undefined,
    @Ctx() ctx: GraphqlContext,
  ): Promise<QualityResultPayload> {
    const machine = await visibleMachine(ctx, machineId);
    if (!machine) return { errors: [userError(["machineId"], "no machine has this id")] };
    if (!Number.isInteger(scrap) || scrap < 1 || scrap > 1_000_000) return { errors: [userError(["scrap"], "expected a whole number from 1 to 1,000,000")] };
    const when = at?.getTime() ?? Date.now();
    if (when > Date.now() + 60_000 || when < Date.now() - MAX_SPAN_MS) return { errors: [userError(["at"], "expected a time within the last 400 days")] };
    const { actor, requestId } = actorOf(ctx);
    await ctx.database.db.transaction(async (tx) => {
      await recordProduction(tx, [{ machineId: machine.id, at: when, product: product ?? "", produced: 0, good: -scrap, scrap, idealSeconds: 0 }]);
      await recordAudit(tx, { actor, action: "quality_result.recorded", entityType: "machine", entityId: machine.id, newValue: { scrap, product: product ?? null, at: new Date(when).toISOString() }, requestId });
    });
    return { scrap, at: new Date(when), errors: [] };
  }

  @Authorized("calendar.manage")
  @Mutation(() => ShiftCalendarPayload, { description: "Creates or replaces the shift calendar of a site or a line (a line's replaces its site's)." })
  async saveShiftCalendar(@Arg("assetId", () => ID) assetId: string, @Arg("calendar", () => JSONObjectResolver) calendar: Record<string, unknown>, @Ctx() ctx: GraphqlContext): Promise<ShiftCalendarPayload> {
    const asset = await visibleAsset(ctx, assetId, ["Site", "Line"]);
    if (!asset) return { errors: [userError(["assetId"], "no site or line you can see has this id")] };
    const parsed = calendarSpec.safeParse(calendar);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error, "calendar") };
    const { actor, requestId } = actorOf(ctx);
    await ctx.database.db.transaction((tx) => saveCalendar(tx, { siteId: asset.siteId, lineId: asset.level === "Line" ? asset.id : undefined }, parsed.data, actor, requestId));
    ctx.pubsub.publish("PLANNING_CHANGED", { at: new Date().toISOString() });
    return { calendar: parsed.data, errors: [] };
  }

  @Authorized("asset.manage")
  @Mutation(() => MachineStateConfigPayload, { description: "Sets how a machine's state and counts come from its data points (sources in order, counters, job signals, ideal cycle times)." })
  async saveMachineStateConfig(@Arg("machineId", () => ID) machineId: string, @Arg("config", () => JSONObjectResolver) config: Record<string, unknown>, @Ctx() ctx: GraphqlContext): Promise<MachineStateConfigPayload> {
    const machine = await visibleMachine(ctx, machineId);
    if (!machine) return { errors: [userError(["machineId"], "no machine has this id")] };
    const parsed = machineStateConfig.safeParse(config);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error, "config") };
    const { actor, requestId } = actorOf(ctx);
    try {
      await ctx.database.db.transaction((tx) => saveStateConfig(tx, machine.id, parsed.data, actor, requestId));
    } catch (error) {
      if (error instanceof StateConfigPointMissing) return { errors: [userError(["config"], error.message)] };
      throw error;
    }
    ctx.pubsub.publish("PLANNING_CHANGED", { at: new Date().toISOString(), machineIds: [machine.id] });
    return { config: parsed.data, errors: [] };
  }

  @Authorized("telemetry.read")
  @Subscription(() => MachineStateInterval, {
    description: "Each state a machine of your sites (or one machine) enters, and reasons set on its intervals.",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, MachineChangeArgs, GraphqlContext>) => {
      const machineId = await subscribedMachine(context, args.machineId);
      return visibleChanges(
        context.pubsub.subscribe("MACHINE_STATE_CHANGED"),
        (change) => machineId === undefined || change.machineId === machineId,
        async (change) => {
          const row = await intervalById(context.database.db, change.intervalId);
          return row && machineVisible(context, await context.loaders.machine.load(row.machineId)) ? row : undefined;
        },
      );
    },
  })
  machineStateChanged(@Root() row: Awaited<ReturnType<typeof intervalById>> & object, @Args(() => MachineChangeArgs) _args: MachineChangeArgs): MachineStateInterval {
    return toInterval(row);
  }
}

@Resolver(() => Machine)
export class MachineAvailabilityResolver {
  @Authorized("telemetry.read")
  @FieldResolver(() => [MachineStateInterval], { description: "The state intervals overlapping [from, to), oldest first." })
  async stateIntervals(@Root() machine: Machine, @Args(() => IntervalRangeArgs) args: IntervalRangeArgs, @Ctx() ctx: GraphqlContext): Promise<MachineStateInterval[]> {
    const [from, to] = range(args.from, args.to);
    const limit = Math.min(Math.max(args.first ?? 500, 1), 5_000);
    return (await intervalsBetween(ctx.database.db, machine.dbId, from, to, limit)).map(toInterval);
  }

  @Authorized("telemetry.read")
  @FieldResolver(() => [CycleTimeStats], { description: "Actual cycle times per product over [from, to) against the ideal, flagged when persistently slower." })
  async cycleTimes(@Root() machine: Machine, @Args(() => IntervalRangeArgs) args: IntervalRangeArgs, @Ctx() ctx: GraphqlContext): Promise<CycleTimeStats[]> {
    const [from, to] = range(args.from, args.to);
    const config = (await stateConfigs(ctx.database.db, [machine.dbId])).get(machine.dbId)!;
    return (await cycleTimes(ctx.database.db, machine.dbId, config, from, to)).map((c) => Object.assign(new CycleTimeStats(), c));
  }

  @Authorized("asset.read")
  @FieldResolver(() => JSONObjectResolver, { nullable: true, description: "How its state and counts are read, when set (else: speed decides running or idle, parts counts)." })
  async stateConfig(@Root() machine: Machine, @Ctx() ctx: GraphqlContext): Promise<Record<string, unknown> | undefined> {
    return stateConfigOf(ctx.database.db, machine.dbId);
  }
}

@Resolver(() => Site)
export class SiteCalendarResolver {
  @Authorized("asset.read")
  @FieldResolver(() => JSONObjectResolver, { nullable: true, description: "The site's shift calendar; none: planned around the clock." })
  async shiftCalendar(@Root() site: Site, @Ctx() ctx: GraphqlContext): Promise<Record<string, unknown> | undefined> {
    return calendarOf(ctx.database.db, { siteId: site.dbId });
  }
}

@Resolver(() => Line)
export class LineCalendarResolver {
  @Authorized("asset.read")
  @FieldResolver(() => JSONObjectResolver, { nullable: true, description: "The line's own shift calendar, which replaces its site's." })
  async shiftCalendar(@Root() line: Line, @Ctx() ctx: GraphqlContext): Promise<Record<string, unknown> | undefined> {
    const area = await ctx.loaders.area.load(line.areaId);
    return area && calendarOf(ctx.database.db, { siteId: area.siteId, lineId: line.dbId });
  }
}
