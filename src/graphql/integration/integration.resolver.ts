import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { connectorFor, connectors } from "../../../connectors/index.js";
import { isConnectorError } from "../../../connectors/sdk/errors.js";
import { scopedSites, seesSite, type SiteScope } from "../../auth/identity.js";
import { connectorContext } from "../../integrations/connector-config.js";
import {
  createIntegration,
  deleteIntegration,
  getIntegration,
  integrationByName,
  integrationChange,
  integrationSpec,
  listIntegrations,
  NO_SECRETS_KEY_ID,
  openSecrets,
  secretNames,
  updateIntegration,
  type IntegrationRow,
} from "../../integrations/integration.service.js";
import { actionQueueName } from "../../jobs/catalog.js";
import { secretBoxFor } from "../../secrets/secret-box.js";
import { DeletePayload } from "../asset/asset.input.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { countActions } from "../event-action/event-action.queries.js";
import { parseDatabaseId } from "../relay/node.type.js";
import { userError, userErrorsFromZod, type UserError } from "../user-error.type.js";
import { CreateIntegrationInput, IntegrationPayload, UpdateIntegrationInput } from "./integration.input.js";
import { Integration, toIntegration } from "./integration.type.js";

const NOT_CONFIGURED = "SECRETS_KEYS is not configured: secrets cannot be stored";
const NOT_FOUND = "no integration has this id";
/** Jobs of a queue that are still to run. */
const QUEUED_STATES = ["waiting", "active", "delayed", "prioritized"] as const;

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
    return secretNames(secretBoxFor(ctx.config), integration.sealed);
  }

  @FieldResolver(() => Int, { description: "Actions that failed for good and wait for a replay (see deadLetters)." })
  deadLetters(@Root() integration: Integration, @Ctx() ctx: GraphqlContext): Promise<number> {
    return countActions(ctx.database.db, Number(integration.id), "dead");
  }

  @FieldResolver(() => Int, { description: "Actions planned and not yet carried out." })
  pendingActions(@Root() integration: Integration, @Ctx() ctx: GraphqlContext): Promise<number> {
    return countActions(ctx.database.db, Number(integration.id), "pending");
  }

  @FieldResolver(() => Int, { nullable: true, description: "Jobs waiting, running or delayed in its connector's queue (shared by integrations of that kind); null without job queues." })
  async queueDepth(@Root() integration: Integration, @Ctx() ctx: GraphqlContext): Promise<number | undefined> {
    if (!ctx.queues) return undefined;
    const counts = await ctx.queues.counts(actionQueueName(integration.kind));
    return QUEUED_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
  }

  @Authorized("integration.manage")
  @Mutation(() => IntegrationPayload, { description: "Creates an integration after checking its settings with the tool; its secrets are stored encrypted under SECRETS_KEYS." })
  async createIntegration(
    @Arg("input", () => CreateIntegrationInput) input: CreateIntegrationInput,
    @Ctx() ctx: GraphqlContext,
  ): Promise<IntegrationPayload> {
    const { verify, ...fields } = input;
    const parsed = integrationSpec.safeParse(fields);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const { kind, name, site, config, secrets } = parsed.data;
    const box = secretBoxFor(ctx.config);
    // Without a keyring only an integration without secrets (the built-in board) can be stored.
    if (!box && Object.keys(secrets).length > 0) return { errors: [userError(["input", "secrets"], NOT_CONFIGURED)] };
    if (!integrationVisible(ctx.identity.scope, site)) {
      const message = site === null ? "an integration for every site needs access to every site" : `site ${site} is outside your sites`;
      return { errors: [userError(["input", "site"], message)] };
    }
    if (await integrationByName(ctx.database.db, name)) {
      return { errors: [userError(["input", "name"], `an integration named ${name} exists already`)] };
    }
    const problems = await checkSettings(ctx, kind, config, secrets, verify !== false);
    if (problems.length > 0) return { errors: problems };
    const row = await createIntegration(ctx.database.db, box, parsed.data, actorOf(ctx));
    return { integration: toIntegration(row), errors: [] };
  }

  @Authorized("integration.manage")
  @Mutation(() => IntegrationPayload, { description: "Replaces the config and/or all secrets of an integration, after checking them with the tool." })
  async updateIntegration(
    @Arg("input", () => UpdateIntegrationInput) input: UpdateIntegrationInput,
    @Ctx() ctx: GraphqlContext,
  ): Promise<IntegrationPayload> {
    const { id, verify, ...change } = input;
    const parsed = integrationChange.safeParse(change);
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    const box = secretBoxFor(ctx.config);
    if (parsed.data.secrets && Object.keys(parsed.data.secrets).length > 0 && !box) return { errors: [userError(["input", "secrets"], NOT_CONFIGURED)] };
    const current = await this.findVisible(ctx, id);
    if (!current) return { errors: [userError(["input", "id"], NOT_FOUND)] };
    if (!parsed.data.secrets && current.secretsKeyId !== NO_SECRETS_KEY_ID && !box) {
      return { errors: [userError(["input", "config"], "SECRETS_KEYS is not configured: the stored secrets cannot be checked with the new config")] };
    }
    const secrets = parsed.data.secrets ?? openSecrets(box, current);
    const problems = await checkSettings(ctx, current.kind, parsed.data.config ?? current.config, secrets, verify !== false);
    if (problems.length > 0) return { errors: problems };
    const row = await updateIntegration(ctx.database.db, box, current.id, parsed.data, actorOf(ctx));
    return row ? { integration: toIntegration(row), errors: [] } : { errors: [userError(["input", "id"], NOT_FOUND)] };
  }

  @Authorized("integration.manage")
  @Mutation(() => DeletePayload, { description: "Deletes the integration and its stored secrets." })
  async deleteIntegration(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<DeletePayload> {
    const current = await this.findVisible(ctx, id);
    const deleted = current && (await deleteIntegration(ctx.database.db, current.id, actorOf(ctx)));
    return deleted ? { deletedId: id, errors: [] } : { errors: [userError(["id"], NOT_FOUND)] };
  }

  /** Integrations outside the caller's sites are reported as absent, like unknown ids. */
  private async findVisible(ctx: GraphqlContext, id: string): Promise<IntegrationRow | undefined> {
    const numeric = parseDatabaseId(id);
    const row = numeric === undefined ? undefined : await getIntegration(ctx.database.db, numeric);
    return row && integrationVisible(ctx.identity.scope, row.site) ? row : undefined;
  }
}

/** A site-less integration serves every site, so only an identity that sees every site sees it. */
export function integrationVisible(scope: SiteScope, site: string | null): boolean {
  return site === null ? scope.all : seesSite(scope, site);
}

/**
 * The connector's schema checks config and secrets together; then (unless `verify` is off) one
 * cheap call to the tool. Problems come back as UserErrors, nothing is saved. Messages name fields,
 * never values, so secrets are not echoed.
 */
async function checkSettings(ctx: GraphqlContext, kind: string, config: Record<string, unknown>, secrets: Record<string, string>, verify: boolean): Promise<UserError[]> {
  const connector = connectorFor(kind);
  if (!connector) return [userError(["input", "kind"], `no connector of kind "${kind}"; known kinds: ${[...connectors.keys()].sort().join(", ")}`)];
  const parsed = connector.configSchema.safeParse({ ...config, ...secrets });
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => {
      const [first, ...rest] = issue.path.map(String);
      const part = first !== undefined && connector.secretKeys.includes(first) ? "secrets" : "config";
      return userError(["input", part, ...(first === undefined ? [] : [first, ...rest])], issue.message);
    });
  }
  if (!verify) return [];
  try {
    await connector.verifyConfig(parsed.data, connectorContext(ctx.log));
    return [];
  } catch (error) {
    if (!isConnectorError(error)) throw error;
    return [userError(["input", "config"], `${connector.displayName} refused the settings (${error.kind}): ${error.message}`)];
  }
}
