import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { scopedSites } from "../../auth/identity.js";
import { gapsOfEndpoint } from "../../opcua/data-gap.queries.js";
import {
  createEndpoint,
  deleteEndpoint,
  endpointByName,
  endpointSecretNames,
  EndpointRejected,
  getEndpoint,
  listEndpoints,
  updateEndpoint,
  type EndpointRow,
} from "../../opcua/opcua-endpoint.service.js";
import { OpcuaOperationError } from "../../opcua/opcua.operations.js";
import { SecretBoxError, secretBoxFor } from "../../secrets/secret-box.js";
import { DeletePayload } from "../asset/asset.input.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { integrationVisible } from "../integration/integration.resolver.js";
import { parseDatabaseId } from "../relay/node.type.js";
import { userError, type UserError } from "../user-error.type.js";
import { CreateOpcuaEndpointInput, OpcuaBrowseResult, OpcuaEndpointPayload, UpdateOpcuaEndpointInput } from "./opcua-endpoint.input.js";
import { DataGap, OpcuaEndpoint, OpcuaNode, toDataGap, toOpcuaEndpoint } from "./opcua-endpoint.type.js";

const NOT_FOUND = "no OPC UA endpoint has this id";
const MAX_GAPS = 500;

/** Endpoints are settings; the ingest process (any replica) picks changes up from ASSETS_CHANGED. */
@Resolver(() => OpcuaEndpoint)
export class OpcuaEndpointResolver {
  @Authorized("opcua.read")
  @Query(() => [OpcuaEndpoint], { description: "OPC UA endpoints of the sites you may see, by name, with their health." })
  async opcuaEndpoints(@Ctx() ctx: GraphqlContext): Promise<OpcuaEndpoint[]> {
    return (await listEndpoints(ctx.database.db, scopedSites(ctx.identity.scope))).map(toOpcuaEndpoint);
  }

  @Authorized("opcua.manage")
  @Query(() => OpcuaBrowseResult, { description: "The nodes below nodeId (default: the Objects folder) on the endpoint's server, to find what to bind." })
  async browse(
    @Arg("endpointId", () => ID) endpointId: string,
    @Arg("nodeId", () => String, { nullable: true }) nodeId: string | undefined,
    @Ctx() ctx: GraphqlContext,
  ): Promise<OpcuaBrowseResult> {
    const endpoint = await findVisible(ctx, endpointId);
    if (!endpoint) return { nodes: [], errors: [userError(["endpointId"], NOT_FOUND)] };
    if (!ctx.opcua) return { nodes: [], errors: [userError(["endpointId"], "OPC UA is not available in this process")] };
    try {
      const nodes = await ctx.opcua.browse(endpoint.id, nodeId ?? undefined);
      return { nodes: nodes.map((n) => Object.assign(new OpcuaNode(), n)), errors: [] };
    } catch (error) {
      if (!(error instanceof OpcuaOperationError)) throw error;
      return { nodes: [], errors: [userError([error.kind === "unavailable" ? "endpointId" : "nodeId"], error.message)] };
    }
  }

  @FieldResolver(() => [String], { description: 'Names of the stored secrets, e.g. ["password"]; their values are never shown.' })
  secretKeys(@Root() endpoint: OpcuaEndpoint, @Ctx() ctx: GraphqlContext): string[] {
    return endpointSecretNames(secretBoxFor(ctx.config), endpoint.sealed);
  }

  @FieldResolver(() => [DataGap], { description: "Windows without data (connection lost, server restarted), newest first." })
  async gaps(@Root() endpoint: OpcuaEndpoint, @Arg("first", () => Int, { defaultValue: 50 }) first: number, @Ctx() ctx: GraphqlContext): Promise<DataGap[]> {
    return (await gapsOfEndpoint(ctx.database.db, Number(endpoint.id), Math.min(Math.max(first, 1), MAX_GAPS))).map(toDataGap);
  }

  @Authorized("opcua.manage")
  @Mutation(() => OpcuaEndpointPayload, { description: "Adds an OPC UA server; its certificate must be trusted (`plantgraph opcua trust <name>`) before a secure session opens." })
  async createOpcuaEndpoint(@Arg("input", () => CreateOpcuaEndpointInput) input: CreateOpcuaEndpointInput, @Ctx() ctx: GraphqlContext): Promise<OpcuaEndpointPayload> {
    const { secrets, ...settings } = input;
    const site = settings.site ?? null;
    if (!integrationVisible(ctx.identity.scope, site)) {
      return { errors: [userError(["input", "site"], site === null ? "an endpoint for every site needs access to every site" : `site ${site} is outside your sites`)] };
    }
    if (await endpointByName(ctx.database.db, settings.name)) return { errors: [userError(["input", "name"], `an OPC UA endpoint named ${settings.name} exists already`)] };
    return this.saved(ctx, () => createEndpoint(ctx.database.db, secretBoxFor(ctx.config), withoutNulls(settings), secrets ?? {}, actorOf(ctx)));
  }

  @Authorized("opcua.manage")
  @Mutation(() => OpcuaEndpointPayload, { description: "Changes an endpoint's settings and/or replaces its secrets; its sources reconnect with them." })
  async updateOpcuaEndpoint(@Arg("input", () => UpdateOpcuaEndpointInput) input: UpdateOpcuaEndpointInput, @Ctx() ctx: GraphqlContext): Promise<OpcuaEndpointPayload> {
    const { id, secrets, ...change } = input;
    const current = await findVisible(ctx, id);
    if (!current) return { errors: [userError(["input", "id"], NOT_FOUND)] };
    if (change.site !== undefined && !integrationVisible(ctx.identity.scope, change.site ?? null)) {
      return { errors: [userError(["input", "site"], "that site is outside your sites")] };
    }
    return this.saved(ctx, async () => (await updateEndpoint(ctx.database.db, secretBoxFor(ctx.config), current.id, withoutNulls(change, ["site", "username"]), secrets, actorOf(ctx)))!);
  }

  @Authorized("opcua.manage")
  @Mutation(() => DeletePayload, { description: "Deletes the endpoint, its bindings and its recorded gaps; the data points and their telemetry stay." })
  async deleteOpcuaEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<DeletePayload> {
    const current = await findVisible(ctx, id);
    const deleted = current && (await deleteEndpoint(ctx.database.db, current.id, actorOf(ctx)));
    if (!deleted) return { errors: [userError(["id"], NOT_FOUND)] };
    ctx.pubsub.publish("ASSETS_CHANGED", { at: new Date().toISOString() });
    return { deletedId: id, errors: [] };
  }

  /** Runs a save; expected failures become UserErrors, and a saved change reaches the ingest processes. */
  private async saved(ctx: GraphqlContext, save: () => Promise<EndpointRow>): Promise<OpcuaEndpointPayload> {
    let row: EndpointRow;
    try {
      row = await save();
    } catch (error) {
      if (error instanceof EndpointRejected) return { errors: error.problems.map((p) => userError(["input", ...p.path.map(String)], p.message)) };
      if (error instanceof SecretBoxError) return { errors: [userError(["input", "secrets"], error.message)] };
      throw error;
    }
    ctx.pubsub.publish("ASSETS_CHANGED", { at: new Date().toISOString() });
    return { endpoint: toOpcuaEndpoint(row), errors: [] as UserError[] };
  }
}

/** Endpoints outside the caller's sites are reported as absent, like unknown ids. */
export async function findVisible(ctx: GraphqlContext, id: string): Promise<EndpointRow | undefined> {
  const numeric = parseDatabaseId(id);
  const row = numeric === undefined ? undefined : await getEndpoint(ctx.database.db, numeric);
  return row && integrationVisible(ctx.identity.scope, row.site) ? row : undefined;
}

/** GraphQL sends null for "absent"; the service wants undefined, except for fields where null means "clear". */
function withoutNulls<T extends object>(input: T, nullable: readonly string[] = []): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(input).filter(([key, value]) => value !== null || nullable.includes(key))) as never;
}
