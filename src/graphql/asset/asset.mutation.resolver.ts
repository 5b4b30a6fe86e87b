import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from "type-graphql";
import { seesSite } from "../../auth/identity.js";
import { z } from "zod";
import { dataPointSpec, machinePathSpec, timezone } from "../../assets/asset.rules.js";
import { deleteDataPoints, deleteMachine, upsertDataPoint, upsertMachine } from "../../assets/asset.service.js";
import { recordAudit, type AuditAction } from "../../audit/audit.js";
import type { Tx } from "../../db/database.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { machineVisible } from "../scope.js";
import { toDataPoint } from "../data-point/data-point.type.js";
import { parseGlobalId } from "../relay/node.type.js";
import { userError, userErrorsFromZod } from "../user-error.type.js";
import { toMachine } from "./asset.type.js";
import { DataPointPayload, DeletePayload, MachinePayload, UpsertDataPointInput, UpsertMachineInput } from "./asset.input.js";

const machineInput = machinePathSpec.extend({
  displayName: z.string().min(1).max(128).optional(),
  siteTimezone: timezone.optional(),
});

/** Creations and changes carry the new values, deletions the old. */
function audit(tx: Tx, ctx: GraphqlContext, action: AuditAction, entityType: string, entityId: number, values: Record<string, unknown>): Promise<void> {
  const deleted = action.endsWith(".deleted");
  return recordAudit(tx, { ...actorOf(ctx), action, entityType, entityId, oldValue: deleted ? values : null, newValue: deleted ? null : values });
}

/** Mutations validate, write in one transaction, then tell ingest (on any replica) to rebind. */
@Resolver()
export class AssetMutationResolver {
  @Authorized("asset.manage")
  @Mutation(() => MachinePayload)
  async upsertMachine(@Arg("input", () => UpsertMachineInput) input: UpsertMachineInput, @Ctx() ctx: GraphqlContext): Promise<MachinePayload> {
    const parsed = machineInput.safeParse(input);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const { siteTimezone, ...machine } = parsed.data;
    if (!seesSite(ctx.identity.scope, `${machine.enterprise}/${machine.site}`)) {
      return { errors: [userError(["input", "site"], `site ${machine.enterprise}/${machine.site} is outside your sites`)] };
    }
    const result = await ctx.database.db.transaction(async (tx) => {
      const upserted = await upsertMachine(tx, { ...machine, timezone: siteTimezone });
      if (upserted.change !== "unchanged") await audit(tx, ctx, "machine.saved", "machine", upserted.id, { ...machine, siteTimezone: siteTimezone ?? null, change: upserted.change });
      return upserted;
    });
    const row = (await ctx.loaders.machine.load(result.id))!;
    this.assetsChanged(ctx, result.change !== "unchanged" || result.parents.some((p) => p.change !== "unchanged"));
    return { machine: toMachine(row), errors: [] };
  }

  @Authorized("asset.manage")
  @Mutation(() => DataPointPayload)
  async upsertDataPoint(
    @Arg("input", () => UpsertDataPointInput) input: UpsertDataPointInput,
    @Ctx() ctx: GraphqlContext,
  ): Promise<DataPointPayload> {
    const { machineId, ...spec } = input;
    const parsed = dataPointSpec.safeParse(spec);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const machine = await this.findMachine(ctx, machineId);
    if (!machine) return { errors: [userError(["input", "machineId"], "no machine has this id")] };
    const result = await ctx.database.db.transaction(async (tx) => {
      const upserted = await upsertDataPoint(tx, machine.id, parsed.data);
      if (upserted.change !== "unchanged") await audit(tx, ctx, "data_point.saved", "data_point", upserted.id, { machine: machine.path, ...parsed.data, change: upserted.change });
      return upserted;
    });
    const row = (await ctx.loaders.dataPoint.load(result.id))!;
    this.assetsChanged(ctx, result.change !== "unchanged");
    return { dataPoint: toDataPoint(row, machine.path), errors: [] };
  }

  @Authorized("asset.manage")
  @Mutation(() => DeletePayload, { description: "Deletes the machine with its data points and their telemetry." })
  async deleteMachine(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<DeletePayload> {
    const machine = await this.findMachine(ctx, id);
    if (!machine) return { errors: [userError(["id"], "no machine has this id")] };
    await ctx.database.db.transaction(async (tx) => {
      if (await deleteMachine(tx, machine.id)) await audit(tx, ctx, "machine.deleted", "machine", machine.id, { path: machine.path });
    });
    this.assetsChanged(ctx, true);
    return { deletedId: id, errors: [] };
  }

  @Authorized("asset.manage")
  @Mutation(() => DeletePayload, { description: "Deletes the data point and its telemetry." })
  async deleteDataPoint(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<DeletePayload> {
    const parsed = parseGlobalId(id, "DataPoint");
    const point = parsed && (await ctx.loaders.dataPoint.load(parsed.id));
    if (!point || !machineVisible(ctx, await ctx.loaders.machine.load(point.machineId))) {
      return { errors: [userError(["id"], "no data point has this id")] };
    }
    await ctx.database.db.transaction(async (tx) => {
      if ((await deleteDataPoints(tx, [point.id])) > 0) await audit(tx, ctx, "data_point.deleted", "data_point", point.id, { machineId: point.machineId, name: point.name });
    });
    this.assetsChanged(ctx, true);
    return { deletedId: id, errors: [] };
  }

  /** Machines outside the caller's sites are reported as absent, like unknown ids. */
  private async findMachine(ctx: GraphqlContext, id: string) {
    const parsed = parseGlobalId(id, "Machine");
    const row = parsed && (await ctx.loaders.machine.load(parsed.id));
    return machineVisible(ctx, row) ? row : undefined;
  }

  /** Published after the commit, so a replica that rebinds reads the new model. */
  private assetsChanged(ctx: GraphqlContext, changed: boolean): void {
    if (changed) ctx.pubsub.publish("ASSETS_CHANGED", { at: new Date().toISOString() });
  }
}
