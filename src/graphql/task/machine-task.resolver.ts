import { Authorized, Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { Machine } from "../asset/asset.type.js";
import type { GraphqlContext } from "../context.js";
import { Task, toTask } from "./task.type.js";

/** The tasks of a machine, as a field of Machine. */
@Resolver(() => Machine)
export class MachineTaskResolver {
  @Authorized("task.read")
  @FieldResolver(() => [Task], { description: "Tasks opened for this machine, newest first." })
  async tasks(@Root() machine: Machine, @Ctx() ctx: GraphqlContext): Promise<Task[]> {
    return (await ctx.loaders.tasksOfMachine.load(machine.dbId)).map(toTask);
  }
}
