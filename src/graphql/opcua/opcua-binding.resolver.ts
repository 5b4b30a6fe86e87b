import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import { gapsOfEndpoint } from "../../opcua/data-gap.queries.js";
import { limitsOfPoints } from "../../actuation/actuation-targets.store.js";
import { removeBinding, setBinding } from "../../opcua/opcua-binding.service.js";
import { bindingSpec } from "../../opcua/opcua.rules.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { DataPoint, toDataPoint } from "../data-point/data-point.type.js";
import { parseGlobalId } from "../relay/node.type.js";
import { machineVisible } from "../scope.js";
import { userError, userErrorsFromZod } from "../user-error.type.js";
import { OpcuaBindingPayload, SetOpcuaBindingInput } from "./opcua-endpoint.input.js";
import { findVisible } from "./opcua-endpoint.resolver.js";
import { DataGap, OpcuaBinding, toDataGap, toOpcuaBinding } from "./opcua-endpoint.type.js";

const NO_POINT = "no data point has this id";
const MAX_GAPS = 500;

/** A data point's OPC UA side: where it is read from, and the windows its endpoint delivered nothing. */
@Resolver(() => DataPoint)
export class OpcuaBindingResolver {
  @FieldResolver(() => OpcuaBinding, { nullable: true, description: "Its OPC UA node, with the server's verdict on it; null when it is not read over OPC UA." })
  async opcua(@Root() point: DataPoint, @Ctx() ctx: GraphqlContext): Promise<OpcuaBinding | undefined> {
    const row = await ctx.loaders.opcuaBinding.load(point.dbId);
    return row && toOpcuaBinding(row);
  }

  @Authorized("telemetry.read")
  @FieldResolver(() => [DataGap], { description: "Windows in which its OPC UA endpoint delivered nothing, newest first; empty for other sources." })
  async gaps(@Root() point: DataPoint, @Arg("first", () => Int, { defaultValue: 50 }) first: number, @Ctx() ctx: GraphqlContext): Promise<DataGap[]> {
    const binding = await ctx.loaders.opcuaBinding.load(point.dbId);
    if (!binding) return [];
    return (await gapsOfEndpoint(ctx.database.db, binding.endpointId, Math.min(Math.max(first, 1), MAX_GAPS))).map(toDataGap);
  }

  @Authorized("asset.manage")
  @Mutation(() => OpcuaBindingPayload, { description: "Reads the data point from a node of an OPC UA endpoint, replacing its binding." })
  async setOpcuaBinding(@Arg("input", () => SetOpcuaBindingInput) input: SetOpcuaBindingInput, @Ctx() ctx: GraphqlContext): Promise<OpcuaBindingPayload> {
    const point = await this.findPoint(ctx, input.dataPointId);
    if (!point) return { errors: [userError(["input", "dataPointId"], NO_POINT)] };
    const endpoint = await findVisible(ctx, input.endpointId);
    if (!endpoint) return { errors: [userError(["input", "endpointId"], "no OPC UA endpoint has this id")] };
    const { nodeId, browsePath, samplingIntervalMs, queueSize, deadbandType, deadbandValue } = input;
    const parsed = bindingSpec.safeParse({
      endpoint: endpoint.name,
      nodeId: nodeId ?? undefined,
      browsePath: browsePath ?? undefined,
      samplingIntervalMs,
      queueSize,
      deadband: deadbandType === "none" ? undefined : { type: deadbandType, value: deadbandValue },
    });
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const { change } = await ctx.database.db.transaction((tx) => setBinding(tx, point.row.id, endpoint.id, parsed.data, actorOf(ctx)));
    if (change !== "unchanged") ctx.pubsub.publish("ASSETS_CHANGED", { at: new Date().toISOString() });
    ctx.loaders.opcuaBinding.clear(point.row.id);
    return { dataPoint: toDataPoint(point.row, point.machinePath), errors: [] };
  }

  @Authorized("asset.manage")
  @Mutation(() => OpcuaBindingPayload, { description: "Stops reading the data point over OPC UA; its telemetry stays." })
  async removeOpcuaBinding(@Arg("dataPointId", () => ID) dataPointId: string, @Ctx() ctx: GraphqlContext): Promise<OpcuaBindingPayload> {
    const point = await this.findPoint(ctx, dataPointId);
    if (!point) return { errors: [userError(["dataPointId"], NO_POINT)] };
    // Its setpoint writes go through this binding: they would fail at the machine, not here.
    const [limits] = await limitsOfPoints(ctx.database.db, [point.row.id]);
    if (limits?.transport === "opcua") return { errors: [userError(["dataPointId"], "the point's setpoint writes go over OPC UA: change its actuation transport first")] };
    if (await ctx.database.db.transaction((tx) => removeBinding(tx, point.row.id, actorOf(ctx)))) ctx.pubsub.publish("ASSETS_CHANGED", { at: new Date().toISOString() });
    ctx.loaders.opcuaBinding.clear(point.row.id);
    return { dataPoint: toDataPoint(point.row, point.machinePath), errors: [] };
  }

  /** Data points of machines outside the caller's sites are reported as absent. */
  private async findPoint(ctx: GraphqlContext, id: string) {
    const parsed = parseGlobalId(id, "DataPoint");
    const row = parsed && (await ctx.loaders.dataPoint.load(parsed.id));
    const machine = row && (await ctx.loaders.machine.load(row.machineId));
    return row && machine && machineVisible(ctx, machine) ? { row, machinePath: machine.path } : undefined;
  }
}
