import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { scopedSites } from "../../auth/identity.js";
import { deleteRule, getRule, ruleSpec, RuleTargetMissing, saveRule, type RuleRow } from "../../rules/rule.service.js";
import { DeletePayload } from "../asset/asset.input.js";
import { Machine, toMachine } from "../asset/asset.type.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { parseDatabaseId } from "../relay/node.type.js";
import { machineVisible, visibleMachine } from "../scope.js";
import { userError, userErrorsFromZod } from "../user-error.type.js";
import { SaveRuleInput } from "./rule.input.js";
import { listRules } from "./rule.queries.js";
import { Rule, RulePayload, toRule } from "./rule.type.js";

const NO_MACHINE = "no machine has this id";
const NO_RULE = "no rule has this id";

/** Rules live on machines: a machine outside the caller's sites, and its rules, are absent. */
@Resolver(() => Rule)
export class RuleResolver {
  @Authorized("asset.read")
  @Query(() => [Rule], { description: "Rules of the machines of your sites (or of one machine), by id." })
  async rules(@Arg("machineId", () => ID, { nullable: true }) machineId: string | undefined, @Ctx() ctx: GraphqlContext): Promise<Rule[]> {
    let machine: number | undefined;
    if (machineId != null) {
      const row = await visibleMachine(ctx, machineId);
      if (!row) return [];
      machine = row.id;
    }
    return (await listRules(ctx.database.db, { machineId: machine, sites: scopedSites(ctx.identity.scope) })).map(toRule);
  }

  @FieldResolver(() => Machine)
  async machine(@Root() rule: Rule, @Ctx() ctx: GraphqlContext): Promise<Machine> {
    return toMachine((await ctx.loaders.machine.load(rule.machineId))!);
  }

  @FieldResolver(() => String, { description: "The data point's name on the machine." })
  async dataPoint(@Root() rule: Rule, @Ctx() ctx: GraphqlContext): Promise<string> {
    return (await ctx.loaders.dataPoint.load(rule.dataPointId))!.name;
  }

  @Authorized("rule.manage")
  @Mutation(() => RulePayload, { description: "Creates or changes a rule; the ingest replicas reload their rules." })
  async saveRule(@Arg("input", () => SaveRuleInput) input: SaveRuleInput, @Ctx() ctx: GraphqlContext): Promise<RulePayload> {
    const machine = await visibleMachine(ctx, input.machineId);
    if (!machine) return { errors: [userError(["input", "machineId"], NO_MACHINE)] };
    const spec = { machineId: machine.id, dataPoint: input.dataPoint, name: input.name, severity: input.severity ?? undefined, enabled: input.enabled ?? undefined, params: input.params };
    const parsed = ruleSpec.safeParse(spec);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const { actor, requestId } = actorOf(ctx);
    try {
      const { row, change } = await saveRule(ctx.database.db, parsed.data, actor, requestId);
      if (change !== "unchanged") rulesChanged(ctx);
      return { rule: toRule(row), errors: [] };
    } catch (error) {
      if (error instanceof RuleTargetMissing) return { errors: [userError(["input", "dataPoint"], `the machine has no data point named "${input.dataPoint}"`)] };
      throw error;
    }
  }

  @Authorized("rule.manage")
  @Mutation(() => DeletePayload, { description: "Deletes a rule with its alarms." })
  async deleteRule(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<DeletePayload> {
    const current = await findVisibleRule(ctx, id);
    const { actor, requestId } = actorOf(ctx);
    const deleted = current && (await deleteRule(ctx.database.db, current.id, actor, requestId));
    if (!deleted) return { errors: [userError(["id"], NO_RULE)] };
    rulesChanged(ctx);
    return { deletedId: id, errors: [] };
  }
}

async function findVisibleRule(ctx: GraphqlContext, id: string): Promise<RuleRow | undefined> {
  const numeric = parseDatabaseId(id);
  const row = numeric === undefined ? undefined : await getRule(ctx.database.db, numeric);
  return row && machineVisible(ctx, await ctx.loaders.machine.load(row.machineId)) ? row : undefined;
}

const rulesChanged = (ctx: GraphqlContext) => ctx.pubsub.publish("RULES_CHANGED", { at: new Date().toISOString() });
