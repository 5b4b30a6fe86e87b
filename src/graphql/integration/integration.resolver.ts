import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { scopedSites, seesSite, type SiteScope } from "../../auth/identity.js";
import {
  createIntegration,
  deleteIntegration,
  getIntegration,
  integrationByName,
  integrationChange,
  integrationSpec,
  listIntegrations,
  secretNames,
  updateIntegration,
  type IntegrationRow,
} from "../../integrations/integration.service.js";
import { secretBoxFor } from "../../secrets/secret-box.js";
import { DeletePayload } from "../asset/asset.input.js";
import type { GraphqlContext } from "../context.js";
import { parseDatabaseId } from "../relay/node.type.js";
import { userError, userErrorsFromZod } from "../user-error.type.js";
import { CreateIntegrationInput, IntegrationPayload, UpdateIntegrationInput } from "./integration.input.js";
import { Integration, toIntegration } from "./integration.type.js";

const NOT_CONFIGURED = "SECRETS_KEYS is not configured: secrets cannot be stored";
const NOT_FOUND = "no integration has this id";

/** Secrets go in through these mutations and never come out: only their names are readable. */
@Resolver(() => Integration)
export class IntegrationResolver {
  @Authorized("integration.read")
  @Query(() => [Integration], { description: "Integrations of the sites you may see, by name; site-less ones only with access to every site." })
  async integrations(@Ctx() ctx: GraphqlContext): Promise<Integration[]> {
    return (await listIntegrations(ctx.database.db, scopedSites(ctx.identity.scope))).map(toIntegration);
  }

  @FieldResolver(() => [String], { description: 'Names of the stored secrets, e.g. ["apiToken"]; their values are never shown.' })
  secretKeys(@Root() integration: Integration, @Ctx() ctx: GraphqlContext): string[] {
    const box = secretBoxFor(ctx.config);
    if (!box) throw new Error("SECRETS_KEYS is not configured: stored secrets cannot be read");
    return secretNames(box, integration.sealed);
  }

  @Authorized("integration.manage")
  @Mutation(() => IntegrationPayload, { description: "Creates an integration; its secrets are stored encrypted under SECRETS_KEYS." })
  async createIntegration(
    @Arg("input", () => CreateIntegrationInput) input: CreateIntegrationInput,
    @Ctx() ctx: GraphqlContext,
  ): Promise<IntegrationPayload> {
    const box = secretBoxFor(ctx.config);
    if (!box) return { errors: [userError(["input", "secrets"], NOT_CONFIGURED)] };
    const parsed = integrationSpec.safeParse(input);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const { name, site } = parsed.data;
    if (!visible(ctx.identity.scope, site)) {
      const message = site === null ? "an integration for every site needs access to every site" : `site ${site} is outside your sites`;
      return { errors: [userError(["input", "site"], message)] };
    }
    if (await integrationByName(ctx.database.db, name)) {
      return { errors: [userError(["input", "name"], `an integration named ${name} exists already`)] };
    }
    const row = await createIntegration(ctx.database.db, box, parsed.data, actorOf(ctx));
    return { integration: toIntegration(row), errors: [] };
  }

  @Authorized("integration.manage")
  @Mutation(() => IntegrationPayload, { description: "Replaces the config and/or all secrets of an integration." })
  async updateIntegration(
    @Arg("input", () => UpdateIntegrationInput) input: UpdateIntegrationInput,
    @Ctx() ctx: GraphqlContext,
  ): Promise<IntegrationPayload> {
    const { id, ...change } = input;
    const parsed = integrationChange.safeParse(change);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const box = secretBoxFor(ctx.config);
    if (parsed.data.secrets && !box) return { errors: [userError(["input", "secrets"], NOT_CONFIGURED)] };
    const current = await this.findVisible(ctx, id);
    if (!current) return { errors: [userError(["input", "id"], NOT_FOUND)] };
    const row = await updateIntegration(ctx.database.db, box, current.id, parsed.data, actorOf(ctx));
    return row ? { integration: toIntegration(row), errors: [] } : { errors: [userError(["input", "id"], NOT_FOUND)] };
  }

  @Authorized("integration.manage")
  @Mutation(() => DeletePayload, { description: "Deletes the integration and its stored secrets." })
  async deleteIntegration(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<DeletePayload> {
    const current = await this.findVisible(ctx, id);
    const deleted = current && (await deleteIntegration(ctx.database.db, current.id));
    return deleted ? { deletedId: id, errors: [] } : { errors: [userError(["id"], NOT_FOUND)] };
  }

  /** Integrations outside the caller's sites are reported as absent, like unknown ids. */
  private async findVisible(ctx: GraphqlContext, id: string): Promise<IntegrationRow | undefined> {
    const numeric = parseDatabaseId(id);
    const row = numeric === undefined ? undefined : await getIntegration(ctx.database.db, numeric);
    return row && visible(ctx.identity.scope, row.site) ? row : undefined;
  }
}

/** A site-less integration serves every site, so only an identity that sees every site sees it. */
function visible(scope: SiteScope, site: string | null): boolean {
  return site === null ? scope.all : seesSite(scope, site);
}

const actorOf = (ctx: GraphqlContext) => ({ actor: ctx.identity.id, requestId: ctx.requestId });
