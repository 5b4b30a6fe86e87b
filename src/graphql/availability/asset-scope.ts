import { machinesUnder } from "../../assets/asset.queries.js";
import type { GraphqlContext } from "../context.js";
import { parseGlobalId } from "../relay/node.type.js";
import { areaVisible, lineVisible, machineVisible, siteVisible } from "../scope.js";

/** A site, area, line or machine the caller may see, with the machines under it. */
export interface AssetScope {
  level: "Site" | "Area" | "Line" | "Machine";
  id: number;
  siteId: number;
  /** The line, for a line or a machine. */
  lineId?: number;
  timezone: string;
  machineIds: number[];
}

const levels = ["Site", "Area", "Line", "Machine"] as const;

/** Undefined when the id names no such level or lies outside the caller's sites. */
export async function visibleAsset(ctx: GraphqlContext, assetId: string, allowed: readonly AssetScope["level"][] = levels): Promise<AssetScope | undefined> {
  const parsed = parseGlobalId(assetId);
  const level = parsed?.type as AssetScope["level"] | undefined;
  if (!parsed || !level || !allowed.includes(level)) return undefined;
  const visible =
    level === "Site" ? await siteVisible(ctx, await ctx.loaders.site.load(parsed.id))
    : level === "Area" ? await areaVisible(ctx, await ctx.loaders.area.load(parsed.id))
    : level === "Line" ? await lineVisible(ctx, await ctx.loaders.line.load(parsed.id))
    : machineVisible(ctx, await ctx.loaders.machine.load(parsed.id));
  if (!visible) return undefined;
  const machines = await machinesUnder(ctx.database.db, level, parsed.id);
  const site = level === "Site" ? await ctx.loaders.site.load(parsed.id) : undefined;
  const lineId = level === "Line" ? parsed.id : level === "Machine" ? machines[0]?.lineId : undefined;
  const siteId = site?.id ?? machines[0]?.siteId ?? (await siteOfEmpty(ctx, level, parsed.id));
  const timezone = site?.timezone ?? machines[0]?.timezone ?? (await ctx.loaders.site.load(siteId))?.timezone ?? "UTC";
  return { level, id: parsed.id, siteId, lineId, timezone, machineIds: machines.map((m) => m.id) };
}

/** The site of an area or line without machines. */
async function siteOfEmpty(ctx: GraphqlContext, level: AssetScope["level"], id: number): Promise<number> {
  const areaId = level === "Line" ? (await ctx.loaders.line.load(id))!.areaId : id;
  return (await ctx.loaders.area.load(areaId))!.siteId;
}
