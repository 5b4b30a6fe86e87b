import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { automationSpec } from "../../automations/automation.schema.js";
import { deleteAutomation, listAutomations, saveAutomation } from "../../automations/automation.service.js";
import { DeletePayload } from "../asset/asset.input.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { parseDatabaseId } from "../relay/node.type.js";
import { userError, userErrorsFromZod } from "../user-error.type.js";
import { SaveAutomationInput } from "./automation.input.js";
import { Automation, AutomationPayload, toAutomation } from "./automation.type.js";

/** Automations are plant-wide configuration: the permission decides, not the caller's sites. */
@Resolver(() => Automation)
export class AutomationResolver {
  @Authorized("automation.read")
  @Query(() => [Automation], { description: "Every automation, by name." })
  async automations(@Ctx() ctx: GraphqlContext): Promise<Automation[]> {
    return (await listAutomations(ctx.database.db)).map(toAutomation);
  }

  @Authorized("automation.manage")
  @Mutation(() => AutomationPayload, { description: "Creates or changes an automation." })
  async saveAutomation(@Arg("input", () => SaveAutomationInput) input: SaveAutomationInput, @Ctx() ctx: GraphqlContext): Promise<AutomationPayload> {
    const spec = {
      name: input.name,
      trigger: input.trigger,
      conditions: input.conditions ?? undefined,
      actions: input.actions,
      cooldownSeconds: input.cooldownSeconds ?? undefined,
      enabled: input.enabled ?? undefined,
    };
    const parsed = automationSpec.safeParse(spec);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const { actor, requestId } = actorOf(ctx);
    const { row } = await saveAutomation(ctx.database.db, parsed.data, actor, requestId);
    return { automation: toAutomation(row), errors: [] };
  }

  @Authorized("automation.manage")
  @Mutation(() => DeletePayload, { description: "Deletes an automation; actions it planned stay." })
  async deleteAutomation(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<DeletePayload> {
    const numeric = parseDatabaseId(id);
    const { actor, requestId } = actorOf(ctx);
    const deleted = numeric !== undefined && (await deleteAutomation(ctx.database.db, numeric, actor, requestId));
    return deleted ? { deletedId: id, errors: [] } : { errors: [userError(["id"], "no automation has this id")] };
  }
}
