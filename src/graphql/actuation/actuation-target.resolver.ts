import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { Machine } from "../asset/asset.type.js";
import type { GraphqlContext } from "../context.js";
import { DataPoint } from "../data-point/data-point.type.js";
import { ActuationLimits, MachineMethod, toActuationLimits, toMachineMethod } from "./actuation-target.type.js";

/** Whether a data point is writable, and within which limits. */
@Resolver(() => DataPoint)
export class DataPointActuationResolver {
  @FieldResolver(() => ActuationLimits, { nullable: true, description: "Null: the point is not writable." })
  async actuation(@Root() point: DataPoint, @Ctx() ctx: GraphqlContext): Promise<ActuationLimits | null> {
    const [limits] = await ctx.loaders.actuationOfPoint.load(point.dbId);
    return limits ? toActuationLimits(limits) : null;
  }
}

/** The methods a machine offers. */
@Resolver(() => Machine)
export class MachineMethodResolver {
  @FieldResolver(() => [MachineMethod], { description: "Commands callable with callMachineMethod, by name." })
  async methods(@Root() machine: Machine, @Ctx() ctx: GraphqlContext): Promise<MachineMethod[]> {
    return (await ctx.loaders.methodsOfMachine.load(machine.dbId)).map(toMachineMethod);
  }
}
