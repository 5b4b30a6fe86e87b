import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { apiKeySpec, createApiKey, getApiKey, keyWithinScope, listApiKeys, revokeApiKey } from "../../auth/api-key.service.js";
import type { GraphqlContext } from "../context.js";
import { parseDatabaseId } from "../relay/node.type.js";
import { userError, userErrorsFromZod } from "../user-error.type.js";
import { CreateApiKeyInput, CreateApiKeyPayload, RevokeApiKeyPayload } from "./api-key.input.js";
import { ApiKey, toApiKey } from "./api-key.type.js";

@Resolver()
export class ApiKeyResolver {
  @Authorized("apikey.manage")
  @Query(() => [ApiKey], { description: "API keys within your sites, revoked and expired ones included; never their secrets." })
  async apiKeys(@Ctx() ctx: GraphqlContext): Promise<ApiKey[]> {
    return (await listApiKeys(ctx.database.db)).filter((row) => keyWithinScope(ctx.identity.scope, row.sites)).map(toApiKey);
  }

  @Authorized("apikey.manage")
  @Mutation(() => CreateApiKeyPayload)
  async createApiKey(@Arg("input", () => CreateApiKeyInput) input: CreateApiKeyInput, @Ctx() ctx: GraphqlContext): Promise<CreateApiKeyPayload> {
    const parsed = apiKeySpec.safeParse({ ...input, sites: input.sites ?? null, expiresAt: input.expiresAt ?? undefined, createdBy: ctx.identity.id });
    if (!parsed.success) return { errors: userErrorsFromZod(parsed.error) };
    if (!keyWithinScope(ctx.identity.scope, parsed.data.sites)) {
      return { errors: [userError(["input", "sites"], "a key may reach only sites you can reach yourself")] };
    }
    const { key, row } = await createApiKey(ctx.database.db, parsed.data);
    return { apiKey: toApiKey(row), key, errors: [] };
  }

  @Authorized("apikey.manage")
  @Mutation(() => RevokeApiKeyPayload, { description: "Revokes the key; replicas stop accepting it within 10 seconds." })
  async revokeApiKey(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<RevokeApiKeyPayload> {
    const dbId = parseDatabaseId(id);
    const notFound = { errors: [userError(["id"], "no API key has this id")] };
    if (dbId === undefined) return notFound;
    const existing = await getApiKey(ctx.database.db, dbId);
    if (!existing || !keyWithinScope(ctx.identity.scope, existing.sites)) return notFound;
    const row = await revokeApiKey(ctx.database.db, dbId, ctx.identity.id);
    if (!row) return notFound;
    return { apiKey: toApiKey(row), errors: [] };
  }
}
