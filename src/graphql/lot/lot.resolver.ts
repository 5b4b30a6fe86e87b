import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import type { z } from "zod";
import { scopedSites } from "../../auth/identity.js";
import { linksAmong, lotById, lotsByIds, pageLots, traceLotIds, traceLots } from "../../lots/lot.queries.js";
import {
  addLotComponent,
  endLot,
  endLotSpec,
  lotComponentSpec,
  lotHoldSpec,
  LotRejected,
  qualityResultSpec,
  recordQualityResult,
  setLotHold,
  startLot,
  startLotSpec,
  type LotRow,
} from "../../lots/lot.service.js";
import type { TraceChange } from "../../pubsub/pubsub.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { idConnection, type ConnectionOf } from "../relay/connection.js";
import { badInput, decodeIdCursor, pageSize, parseDatabaseId } from "../relay/node.type.js";
import { lotVisible, visibleMachine } from "../scope.js";
import { visibleChanges } from "../subscription.js";
import { userError, userErrorsFromZod, type UserError } from "../user-error.type.js";
import { LotsArgs, TraceArgs, TraceUpdatedArgs } from "./lot.args.js";
import { AddLotComponentInput, EndLotInput, RecordQualityResultInput, SetLotHoldInput, StartLotInput } from "./lot.input.js";
import { Lot, LotConnection, LotEdge, LotPayload, toLot, toLotLink, Trace, TracedLot } from "./lot.type.js";

const NO_LOT = "no lot has this id";
const NO_MACHINE = "no machine has this id";

@Resolver(() => Lot)
export class LotResolver {
  @Authorized("trace.read")
  @Query(() => Lot, { nullable: true, description: "A lot of your sites, with everything traceability records about it." })
  async lot(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<Lot | undefined> {
    const row = await findVisibleLot(ctx, id);
    return row && toLot(row);
  }

  @Authorized("trace.read")
  @Query(() => LotConnection, { description: "Lots of your sites, newest first." })
  async lots(@Args(() => LotsArgs) args: LotsArgs, @Ctx() ctx: GraphqlContext): Promise<ConnectionOf<Lot>> {
    const limit = pageSize(args.first);
    const beforeId = decodeIdCursor(args.after);
    const filter = args.filter;
    // A machine that is unknown or invisible has no lots.
    const machineId = filter?.machineId == null ? undefined : ((await visibleMachine(ctx, filter.machineId))?.id ?? 0);
    const page = await pageLots(
      ctx.database.db,
      { machineId, code: filter?.code ?? undefined, status: filter?.status ?? undefined, onHold: filter?.onHold ?? undefined, sites: scopedSites(ctx.identity.scope) },
      { beforeId, limit: limit + 1 },
    );
    return idConnection({ Edge: LotEdge, Connection: LotConnection }, page, limit, beforeId, (row) => row.id, toLot);
  }

  @Authorized("trace.read")
  @Query(() => Trace, { nullable: true, description: "Walks a lot's genealogy BACKWARD (what it was made from) or FORWARD (what was made from it). Lots outside your sites are left out." })
  async trace(@Args(() => TraceArgs) args: TraceArgs, @Ctx() ctx: GraphqlContext): Promise<Trace | undefined> {
    const root = await findVisibleLot(ctx, args.lotId);
    if (!root) return undefined;
    const traced = await traceLots(ctx.database.db, root.id, args.direction);
    const rows = new Map((await lotsByIds(ctx.database.db, traced.map((t) => t.lotId))).filter((row) => lotVisible(ctx, row)).map((row) => [row.id, row]));
    const links = await linksAmong(ctx.database.db, [...rows.keys()]);
    return Object.assign(new Trace(), {
      direction: args.direction,
      lots: traced.flatMap(({ lotId, depth }) => {
        const row = rows.get(lotId);
        return row ? [Object.assign(new TracedLot(), { depth, lot: toLot(row) })] : [];
      }),
      links: links.map(toLotLink),
    });
  }

  @Authorized("lot.record")
  @Mutation(() => LotPayload, { description: "Starts a lot on a machine." })
  async startLot(@Arg("input", () => StartLotInput) input: StartLotInput, @Ctx() ctx: GraphqlContext): Promise<LotPayload> {
    const machine = await visibleMachine(ctx, input.machineId);
    if (!machine) return failed(userError(["input", "machineId"], NO_MACHINE));
    const spec = parse(startLotSpec, { code: input.code, product: input.product ?? undefined, startedAt: input.startedAt ?? undefined });
    if (!spec.ok) return { errors: spec.errors };
    return recorded(ctx, () => startLot(ctx.database.db, machine, spec.data, actorOf(ctx)));
  }

  @Authorized("lot.record")
  @Mutation(() => LotPayload, { description: "Ends a running lot; its window closes." })
  async endLot(@Arg("input", () => EndLotInput) input: EndLotInput, @Ctx() ctx: GraphqlContext): Promise<LotPayload> {
    const lot = await findVisibleLot(ctx, input.id);
    if (!lot) return failed(userError(["input", "id"], NO_LOT));
    const spec = parse(endLotSpec, { endedAt: input.endedAt ?? undefined, quantity: input.quantity ?? undefined, unit: input.unit ?? undefined });
    if (!spec.ok) return { errors: spec.errors };
    return recorded(ctx, () => endLot(ctx.database.db, lot, spec.data, actorOf(ctx)));
  }

  @Authorized("lot.record")
  @Mutation(() => LotPayload, { description: "Records that a parent lot was consumed into a lot; answers the lot made." })
  async addLotComponent(@Arg("input", () => AddLotComponentInput) input: AddLotComponentInput, @Ctx() ctx: GraphqlContext): Promise<LotPayload> {
    const lot = await findVisibleLot(ctx, input.lotId);
    if (!lot) return failed(userError(["input", "lotId"], NO_LOT));
    const parent = await findVisibleLot(ctx, input.parentLotId);
    if (!parent) return failed(userError(["input", "parentLotId"], NO_LOT));
    const spec = parse(lotComponentSpec, { quantity: input.quantity ?? undefined, unit: input.unit ?? undefined, consumedAt: input.consumedAt ?? undefined });
    if (!spec.ok) return { errors: spec.errors };
    return recorded(ctx, async () => {
      await addLotComponent(ctx.database.db, lot, parent, spec.data, actorOf(ctx));
      return lot;
    }, [parent.id]);
  }

  @Authorized("lot.record")
  @Mutation(() => LotPayload, { description: "Records a quality measurement or inspection of a lot." })
  async recordQualityResult(@Arg("input", () => RecordQualityResultInput) input: RecordQualityResultInput, @Ctx() ctx: GraphqlContext): Promise<LotPayload> {
    const lot = await findVisibleLot(ctx, input.lotId);
    if (!lot) return failed(userError(["input", "lotId"], NO_LOT));
    const spec = parse(qualityResultSpec, {
      characteristic: input.characteristic,
      value: input.value ?? undefined,
      unit: input.unit ?? undefined,
      passed: input.passed,
      note: input.note ?? undefined,
      recordedAt: input.recordedAt ?? undefined,
    });
    if (!spec.ok) return { errors: spec.errors };
    return recorded(ctx, async () => {
      await recordQualityResult(ctx.database.db, lot, spec.data, actorOf(ctx));
      return lot;
    });
  }

  @Authorized("lot.hold")
  @Mutation(() => LotPayload, { description: "Puts a lot under retention hold, or releases it." })
  async setLotHold(@Arg("input", () => SetLotHoldInput) input: SetLotHoldInput, @Ctx() ctx: GraphqlContext): Promise<LotPayload> {
    const lot = await findVisibleLot(ctx, input.id);
    if (!lot) return failed(userError(["input", "id"], NO_LOT));
    const spec = parse(lotHoldSpec, { onHold: input.onHold, reason: input.reason ?? undefined });
    if (!spec.ok) return { errors: spec.errors };
    return recorded(ctx, () => setLotHold(ctx.database.db, lot, spec.data, actorOf(ctx)));
  }

  @Authorized("trace.read")
  @Subscription(() => Lot, {
    description: "A lot as its record changes; with lotId, that lot whenever it or any lot of its genealogy changes.",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, TraceUpdatedArgs, GraphqlContext>) => {
      let watched: number | undefined;
      if (args.lotId != null) {
        const lot = await findVisibleLot(context, args.lotId);
        if (!lot) throw badInput("`lotId` is not a lot you can see", "lotId");
        watched = lot.id;
      }
      return visibleChanges(context.pubsub.subscribe("TRACE_UPDATED"), () => true, (change) => changedLot(context, change, watched));
    },
  })
  traceUpdated(@Root() row: LotRow, @Args(() => TraceUpdatedArgs) _args: TraceUpdatedArgs): Lot {
    return toLot(row);
  }
}

/** What a subscriber is told: the changed lot, or the watched one when the change is in its genealogy. */
async function changedLot(ctx: GraphqlContext, change: TraceChange, watched: number | undefined): Promise<LotRow | undefined> {
  const db = ctx.database.db;
  if (watched === undefined) {
    const row = await lotById(db, change.lotIds[0]!);
    return lotVisible(ctx, row) ? row : undefined;
  }
  const genealogy = new Set([...(await traceLotIds(db, watched, "BACKWARD")), ...(await traceLotIds(db, watched, "FORWARD"))]);
  if (!change.lotIds.some((id) => genealogy.has(id))) return undefined;
  const row = await lotById(db, watched);
  return lotVisible(ctx, row) ? row : undefined;
}

export async function findVisibleLot(ctx: GraphqlContext, id: string): Promise<LotRow | undefined> {
  const numeric = parseDatabaseId(id);
  const row = numeric === undefined ? undefined : await lotById(ctx.database.db, numeric);
  return lotVisible(ctx, row) ? row : undefined;
}

const failed = (error: UserError): LotPayload => ({ errors: [error] });

function parse<T extends z.ZodType>(schema: T, input: z.input<T>): { ok: true; data: z.output<T> } | { ok: false; errors: UserError[] } {
  const parsed = schema.safeParse(input);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, errors: userErrorsFromZod(parsed.error) };
}

/** Runs a change, answers the lot as it is now and tells subscribers; a refusal becomes a UserError. */
async function recorded(ctx: GraphqlContext, change: () => Promise<LotRow>, alsoChanged: number[] = []): Promise<LotPayload> {
  try {
    const lot = await change();
    ctx.pubsub.publish("TRACE_UPDATED", { lotIds: [lot.id, ...alsoChanged], at: new Date().toISOString() });
    const fresh = await lotById(ctx.database.db, lot.id);
    return { lot: toLot(fresh!), errors: [] };
  } catch (error) {
    if (error instanceof LotRejected) return failed(userError(["input", error.field], error.message));
    throw error;
  }
}
