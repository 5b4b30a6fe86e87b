import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { machineByPath } from "../../assets/asset.queries.js";
import { horizonRange, machineCapacity, rankMachines } from "../../capacity/capacity.js";
import { shiftOccurrences } from "../../calendar/calendar.js";
import { calendarOf } from "../../calendar/calendar.service.js";
import type { Tx } from "../../db/database.js";
import { AfterCommit } from "../../events/after-commit.js";
import { EventWriter } from "../../events/event.store.js";
import { readOrderCsv } from "../../orders/order-import.js";
import { machinesMaking, machinesOfOrders, orderByNumber, ordersByIds, ordersByNumbers, ordersOf, orderSpec, upsertOrders, type OrderRow, type OrderSpec } from "../../orders/order.service.js";
import { machineSchedules, refreshProjections } from "../../orders/projection.js";
import { Line, Machine, toLine, toMachine } from "../asset/asset.type.js";
import { range } from "../availability/availability.resolver.js";
import { visibleAsset } from "../availability/asset-scope.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { badInput, parseGlobalId } from "../relay/node.type.js";
import { lineVisible, machineVisible } from "../scope.js";
import { userError, userErrorsFromZod, type UserError } from "../user-error.type.js";
import { CapacityArgs, SaveProductionOrderInput, SuggestMachinesArgs } from "./order.input.js";
import {
  CapacityReport,
  ImportProductionOrdersPayload,
  MachineCapacity,
  MachineSuggestion,
  ProductionOrder,
  ProductionOrderPayload,
  toCapacity,
  toOrder,
  toSuggestion,
} from "./order.type.js";

const MAX_CSV_BYTES = 2_000_000;

@Resolver(() => ProductionOrder)
export class OrderResolver {
  @Authorized("order.read")
  @Query(() => [ProductionOrder], { description: "Orders on the machines and lines under a site, area, line or machine, by due date." })
  async productionOrders(
    @Arg("assetId", () => ID) assetId: string,
    @Arg("openOnly", () => Boolean, { defaultValue: true, description: "Only planned and in-progress orders." }) openOnly: boolean,
    @Ctx() ctx: GraphqlContext,
  ): Promise<ProductionOrder[]> {
    const asset = await visibleAsset(ctx, assetId);
    if (!asset) return [];
    const lineIds = asset.lineId !== undefined ? [asset.lineId] : [...new Set((await Promise.all(asset.machineIds.map((id) => ctx.loaders.machine.load(id)))).map((m) => m!.lineId))];
    return (await ordersOf(ctx.database.db, asset.machineIds, asset.level === "Machine" ? [] : lineIds, openOnly)).map(toOrder);
  }

  @FieldResolver(() => Machine, { nullable: true })
  async machine(@Root() order: ProductionOrder, @Ctx() ctx: GraphqlContext): Promise<Machine | undefined> {
    const row = order.machineId === null ? undefined : await ctx.loaders.machine.load(order.machineId);
    return row && toMachine(row);
  }

  @FieldResolver(() => Line, { nullable: true })
  async line(@Root() order: ProductionOrder, @Ctx() ctx: GraphqlContext): Promise<Line | undefined> {
    const id = order.lineId ?? (order.machineId === null ? undefined : (await ctx.loaders.machine.load(order.machineId))?.lineId);
    const row = id === undefined ? undefined : await ctx.loaders.line.load(id);
    return row && toLine(row);
  }

  @Authorized("order.manage")
  @Mutation(() => ProductionOrderPayload, { description: "Creates an order or changes the one with this number (reassign, re-sequence, move the due date, cancel); the projections of the queues it joins and leaves follow at once." })
  async saveProductionOrder(@Arg("input", () => SaveProductionOrderInput) input: SaveProductionOrderInput, @Ctx() ctx: GraphqlContext): Promise<ProductionOrderPayload> {
    const machine = input.machineId == null ? undefined : await visibleTarget(ctx, "Machine", input.machineId);
    if (input.machineId != null && machine === undefined) return { errors: [userError(["input", "machineId"], "no machine has this id")] };
    const line = input.lineId == null ? undefined : await visibleTarget(ctx, "Line", input.lineId);
    if (input.lineId != null && line === undefined) return { errors: [userError(["input", "lineId"], "no line has this id")] };
    const parsed = orderSpec.safeParse({ ...input, machineId: machine ?? null, lineId: line ?? null, sequence: input.sequence ?? undefined, cancelled: input.cancelled ?? undefined });
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const taken = await numberTaken(ctx, [parsed.data.number]);
    if (taken) return { errors: [userError(["input", "number"], taken)] };
    const [order] = await saveAndProject(ctx, [parsed.data], "order.created");
    return { order: toOrder(order!), errors: [] };
  }

  @Authorized("order.manage")
  @Mutation(() => ImportProductionOrdersPayload, { description: "Imports orders from CSV (number, product, quantity, due, machine or line paths, sequence): all rows or none." })
  async importProductionOrders(@Arg("csv", () => String) csv: string, @Ctx() ctx: GraphqlContext): Promise<ImportProductionOrdersPayload> {
    if (Buffer.byteLength(csv) > MAX_CSV_BYTES) return { orders: [], errors: [userError(["csv"], `at most ${MAX_CSV_BYTES} bytes`)] };
    const { rows, problems } = readOrderCsv(csv);
    const errors: UserError[] = problems.map((p) => userError(["csv", String(p.line), p.column], p.message));
    const specs: OrderSpec[] = [];
    for (const row of rows) {
      const machine = row.machine === undefined ? undefined : await ctx.loaders.machine.load((await machineByPath(ctx.database.db, row.machine))?.id ?? 0);
      if (row.machine !== undefined && !machineVisible(ctx, machine)) errors.push(userError(["csv", String(row.line), "machine"], `no machine at "${row.machine}"`));
      const lineId = row.lineName === undefined ? undefined : await linePathId(ctx, row.lineName);
      if (row.lineName !== undefined && lineId === undefined) errors.push(userError(["csv", String(row.line), "line"], `no line at "${row.lineName}"`));
      specs.push({ number: row.number, product: row.product, quantity: row.quantity, dueAt: new Date(row.due), machineId: machine?.id ?? null, lineId: lineId ?? null, sequence: row.sequence });
    }
    const taken = await numberTaken(ctx, specs.map((s) => s.number));
    if (taken) errors.push(userError(["csv"], taken));
    const numbers = specs.map((s) => s.number);
    const duplicate = numbers.find((n, i) => numbers.indexOf(n) !== i);
    if (duplicate !== undefined) errors.push(userError(["csv"], `order number "${duplicate}" appears twice`));
    if (errors.length > 0) return { orders: [], errors };
    return { orders: (await saveAndProject(ctx, specs, "order.imported")).map(toOrder), errors: [] };
  }

  @Authorized("order.read")
  @Query(() => CapacityReport, { nullable: true, description: "Per machine: planned available time minus planned maintenance and committed work = spare capacity, over [from, to) or a horizon." })
  async capacity(@Args(() => CapacityArgs) args: CapacityArgs, @Ctx() ctx: GraphqlContext): Promise<CapacityReport | undefined> {
    const asset = await visibleAsset(ctx, args.assetId);
    if (!asset) return undefined;
    const now = Date.now();
    let from: number;
    let to: number;
    if (args.horizon) {
      const spec = (asset.lineId !== undefined ? await calendarOf(ctx.database.db, { siteId: asset.siteId, lineId: asset.lineId }) : undefined) ?? (await calendarOf(ctx.database.db, { siteId: asset.siteId }));
      const shifts = spec ? shiftOccurrences(spec, asset.timezone, now - 86_400_000, now + 86_400_000) : [];
      [from, to] = horizonRange(args.horizon, asset.timezone, now, shifts);
    } else {
      if (!args.from || !args.to) throw badInput("give `from` and `to`, or a `horizon`", "horizon");
      [from, to] = range(args.from, args.to);
    }
    const schedules = await machineSchedules(ctx.database.db, asset.machineIds, now);
    const machines = [...schedules.values()].map((s) => machineCapacity(s, from, to, now));
    const sum = (key: "availableSeconds" | "plannedMaintenanceSeconds" | "committedSeconds" | "spareSeconds") => machines.reduce((t, m) => t + m[key], 0);
    return Object.assign(new CapacityReport(), {
      from: new Date(Math.max(from, Math.min(now, to))),
      to: new Date(to),
      machines: machines.map(toCapacity),
      availableSeconds: sum("availableSeconds"),
      plannedMaintenanceSeconds: sum("plannedMaintenanceSeconds"),
      committedSeconds: sum("committedSeconds"),
      spareSeconds: sum("spareSeconds"),
    });
  }

  @Authorized("order.read")
  @Query(() => [MachineSuggestion], { description: "Machines able to make the product (an ideal cycle time set for it, or made in the last 30 days), ranked: due date met, earliest finish, most spare capacity." })
  async suggestMachines(@Args(() => SuggestMachinesArgs) args: SuggestMachinesArgs, @Ctx() ctx: GraphqlContext): Promise<MachineSuggestion[]> {
    if (!Number.isInteger(args.quantity) || args.quantity <= 0) throw badInput("expected a quantity above 0", "quantity");
    let candidates = await machinesMaking(ctx.database.db, args.product);
    if (args.assetId != null) {
      const asset = await visibleAsset(ctx, args.assetId);
      candidates = asset ? candidates.filter((id) => asset.machineIds.includes(id)) : [];
    }
    const visible = await Promise.all(candidates.map(async (id) => machineVisible(ctx, await ctx.loaders.machine.load(id))));
    const now = Date.now();
    const schedules = await machineSchedules(ctx.database.db, candidates.filter((_, i) => visible[i]), now);
    return rankMachines([...schedules.values()], args.product, args.quantity, args.due.getTime(), now).map(toSuggestion);
  }
}

@Resolver(() => MachineCapacity)
export class MachineCapacityResolver {
  @FieldResolver(() => Machine)
  async machine(@Root() capacity: MachineCapacity, @Ctx() ctx: GraphqlContext): Promise<Machine> {
    return toMachine((await ctx.loaders.machine.load(capacity.machineId))!);
  }
}

@Resolver(() => MachineSuggestion)
export class MachineSuggestionResolver {
  @FieldResolver(() => Machine)
  async machine(@Root() suggestion: MachineSuggestion, @Ctx() ctx: GraphqlContext): Promise<Machine> {
    return toMachine((await ctx.loaders.machine.load(suggestion.machineId))!);
  }
}

async function visibleTarget(ctx: GraphqlContext, type: "Machine" | "Line", id: string): Promise<number | undefined> {
  const parsed = parseGlobalId(id, type);
  if (!parsed) return undefined;
  if (type === "Machine") return machineVisible(ctx, await ctx.loaders.machine.load(parsed.id)) ? parsed.id : undefined;
  return (await lineVisible(ctx, await ctx.loaders.line.load(parsed.id))) ? parsed.id : undefined;
}

async function linePathId(ctx: GraphqlContext, path: string): Promise<number | undefined> {
  const [enterprise, site, area, line] = path.split("/");
  if (!enterprise || !site || !area || !line || path.split("/").length !== 4) return undefined;
  const { rows } = await ctx.database.query<{ id: number }>(
    `select l.id from line l join area a on a.id = l.area_id join site s on s.id = a.site_id join enterprise e on e.id = s.enterprise_id
      where e.name = $1 and s.name = $2 and a.name = $3 and l.name = $4`,
    [enterprise, site, area, line],
  );
  const id = rows[0]?.id;
  return id !== undefined && (await lineVisible(ctx, await ctx.loaders.line.load(id))) ? id : undefined;
}

/** An order number that exists on a machine or line the caller cannot see may not be overwritten. */
async function numberTaken(ctx: GraphqlContext, numbers: readonly string[]): Promise<string | undefined> {
  for (const number of numbers) {
    const existing = await orderByNumber(ctx.database.db, number);
    if (existing && !(await orderVisible(ctx, existing))) return `order number "${number}" is taken`;
  }
  return undefined;
}

async function orderVisible(ctx: GraphqlContext, order: OrderRow): Promise<boolean> {
  if (order.machineId !== null) return machineVisible(ctx, await ctx.loaders.machine.load(order.machineId));
  return order.lineId !== null && lineVisible(ctx, await ctx.loaders.line.load(order.lineId));
}

/** Saves orders and re-projects their machines in one transaction; events (at risk) go out after it. */
async function saveAndProject(ctx: GraphqlContext, specs: OrderSpec[], action: "order.created" | "order.imported"): Promise<OrderRow[]> {
  const { actor, requestId } = actorOf(ctx);
  const after = new AfterCommit();
  const saved = await ctx.database.db.transaction(async (tx: Tx) => {
    const before = await ordersByNumbers(tx, specs.map((s) => s.number));
    const rows = await upsertOrders(tx, specs, actor, requestId, action);
    // The queues an order left are re-projected too: the orders behind it move up.
    const machines = await machinesOfOrders(tx, [...before, ...rows]);
    await refreshProjections(tx, new EventWriter(tx, after, actor), machines, Date.now());
    const projected = new Map((await ordersByIds(tx, rows.map((r) => r.id))).map((r) => [r.id, r]));
    return rows.map((r) => projected.get(r.id) ?? r);
  });
  await after.flush(ctx.queues, ctx.pubsub, ctx.log);
  return saved;
}
