import { seesEnterprise, seesSite, sitePathOf } from "../auth/identity.js";
import type { AreaRow, LineRow, MachineRow, SiteRow } from "../assets/asset.queries.js";
import type { GraphqlContext } from "./context.js";
import { parseGlobalId } from "./relay/node.type.js";

/**
 * Site scope for objects reached by id: what lies outside the caller's sites is treated as
 * absent, so its existence does not leak. Lists filter in SQL instead (see the query functions).
 */

export function machineVisible(ctx: GraphqlContext, machine: MachineRow | undefined): machine is MachineRow {
  return machine !== undefined && seesSite(ctx.identity.scope, sitePathOf(machine.path));
}

export async function siteVisible(ctx: GraphqlContext, site: SiteRow | undefined): Promise<boolean> {
  if (!site) return false;
  if (ctx.identity.scope.all) return true;
  const enterprise = await ctx.loaders.enterprise.load(site.enterpriseId);
  return enterprise !== undefined && seesSite(ctx.identity.scope, `${enterprise.name}/${site.name}`);
}

export async function areaVisible(ctx: GraphqlContext, area: AreaRow | undefined): Promise<boolean> {
  return area !== undefined && siteVisible(ctx, await ctx.loaders.site.load(area.siteId));
}

export async function lineVisible(ctx: GraphqlContext, line: LineRow | undefined): Promise<boolean> {
  return line !== undefined && areaVisible(ctx, await ctx.loaders.area.load(line.areaId));
}

export const enterpriseVisible = (ctx: GraphqlContext, name: string) => seesEnterprise(ctx.identity.scope, name);

/** A lot is as visible as the site it was made in (its machine may be gone). */
export function lotVisible(ctx: GraphqlContext, lot: { machinePath: string } | undefined): boolean {
  return lot !== undefined && seesSite(ctx.identity.scope, sitePathOf(lot.machinePath));
}

/** The machine a global id names, when the caller may see it; undefined otherwise. */
export async function visibleMachine(ctx: GraphqlContext, id: string): Promise<MachineRow | undefined> {
  const parsed = parseGlobalId(id, "Machine");
  const row = parsed && (await ctx.loaders.machine.load(parsed.id));
  return machineVisible(ctx, row) ? row : undefined;
}
