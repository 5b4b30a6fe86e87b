import { Authorized, Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { hubKeyFor } from "../../audit/hub-key.js";
import { checkedSignaturesOf } from "../../signatures/signature.service.js";
import { lotEvents, lotLinks, lotOperators, lotParameters, qualityResultsOf } from "../../lots/lot.queries.js";
import { alarmById } from "../alarm/alarm.queries.js";
import { Alarm, toAlarm } from "../alarm/alarm.type.js";
import { Machine, toMachine } from "../asset/asset.type.js";
import type { GraphqlContext } from "../context.js";
import { machineVisible } from "../scope.js";
import { ElectronicSignature, toElectronicSignature } from "../signature/signature.type.js";
import { Task, toTask } from "../task/task.type.js";
import { Lot, LotEvent, LotLink, LotOperator, ProcessParameter, QualityResult, toLotEvent, toLotLink, toProcessParameter, toQualityResult } from "./lot.type.js";

/** What traceability records about a lot, as fields of Lot. */
@Resolver(() => Lot)
export class LotRecordResolver {
  @FieldResolver(() => Machine, { nullable: true, description: "The machine it ran on; null once that machine is deleted." })
  async machine(@Root() lot: Lot, @Ctx() ctx: GraphqlContext): Promise<Machine | undefined> {
    const row = lot.machineId === null ? undefined : await ctx.loaders.machine.load(lot.machineId);
    return machineVisible(ctx, row) ? toMachine(row) : undefined;
  }

  @FieldResolver(() => [LotLink], { description: "The lots consumed into this one." })
  async components(@Root() lot: Lot, @Ctx() ctx: GraphqlContext): Promise<LotLink[]> {
    return (await lotLinks(ctx.database.db, lot.dbId, "parents")).map(toLotLink);
  }

  @FieldResolver(() => [LotLink], { description: "The lots this one was consumed into." })
  async consumedBy(@Root() lot: Lot, @Ctx() ctx: GraphqlContext): Promise<LotLink[]> {
    return (await lotLinks(ctx.database.db, lot.dbId, "consumers")).map(toLotLink);
  }

  @FieldResolver(() => [QualityResult])
  async qualityResults(@Root() lot: Lot, @Ctx() ctx: GraphqlContext): Promise<QualityResult[]> {
    return (await qualityResultsOf(ctx.database.db, lot.dbId)).map(toQualityResult);
  }

  @Authorized("telemetry.read")
  @FieldResolver(() => [ProcessParameter], { description: "Each data point of its machine summarized over the lot's window (to now while it runs)." })
  async parameters(@Root() lot: Lot, @Ctx() ctx: GraphqlContext): Promise<ProcessParameter[]> {
    return (await lotParameters(ctx.database.db, lot.row)).map(toProcessParameter);
  }

  @Authorized("alarm.read")
  @FieldResolver(() => [LotEvent], { description: "Alarms, deviations and other events raised on its machine while it ran, oldest first." })
  async events(@Root() lot: Lot, @Ctx() ctx: GraphqlContext): Promise<LotEvent[]> {
    return (await lotEvents(ctx.database.db, lot.row)).map(toLotEvent);
  }

  @Authorized("signature.read")
  @FieldResolver(() => [ElectronicSignature], { description: "Its electronic signatures (reviewed, approved, released), oldest first, each checked against the lot's record as it is now." })
  async signatures(@Root() lot: Lot, @Ctx() ctx: GraphqlContext): Promise<ElectronicSignature[]> {
    const { publicKeyPem } = await hubKeyFor(ctx.config);
    return (await checkedSignaturesOf(ctx.database.db, publicKeyPem, "lot", lot.dbId)).map(({ row, check }) => toElectronicSignature(row, check));
  }

  @FieldResolver(() => [LotOperator], { description: "Who started, ended, fed, tested or held the lot." })
  async operators(@Root() lot: Lot, @Ctx() ctx: GraphqlContext): Promise<LotOperator[]> {
    return (await lotOperators(ctx.database.db, lot.row)).map((operator) => Object.assign(new LotOperator(), operator));
  }
}

@Resolver(() => LotEvent)
export class LotEventResolver {
  @Authorized("alarm.read")
  @FieldResolver(() => Alarm, { nullable: true, description: "The alarm the event belongs to, if any." })
  async alarm(@Root() event: LotEvent, @Ctx() ctx: GraphqlContext): Promise<Alarm | undefined> {
    const row = event.alarmId === null ? undefined : await alarmById(ctx.database.db, event.alarmId);
    return row && toAlarm(row);
  }

  @Authorized("task.read")
  @FieldResolver(() => [Task], { description: "Tasks the event led to." })
  async tasks(@Root() event: LotEvent, @Ctx() ctx: GraphqlContext): Promise<Task[]> {
    return (await ctx.loaders.tasksOfEvent.load(event.dbId)).map(toTask);
  }
}
