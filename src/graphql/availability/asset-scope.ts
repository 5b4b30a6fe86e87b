import { machinesUnder } from "../../assets/asset.queries.js";
import { seesSite } from "../../auth/identity.js";
import type { GraphqlContext } from "../context.js";
import { parseGlobalId } from "../relay/node.type.js";

/** A site, area, line or machine the caller may see, with the machines under it. */
export interface AssetScope {
  level: "Site" | "Area" | "Line" | "Machine";
  id: number;
  siteId: number;
  /** The line, for a line or a machine. */
  lineId?: number;
  timezone: string;
  machineIds: number[];
  /** For a site, area or line: the lines whose machines are exactly `machineIds` (their rollups answer for them). */
  wholeLines?: number[];
}

const levels = ["Site", "Area", "Line", "Machine"] as const;

/** Undefined when the id names no such level or lies outside the caller's sites. One query, whatever the level. */
export async function visibleAsset(ctx: GraphqlContext, assetId: string, allowed: readonly AssetScope["level"][] = levels): Promise<AssetScope | undefined> {
  const parsed = parseGlobalId(assetId);
  const level = parsed?.type as AssetScope["level"] | undefined;
  if (!parsed || !level || !allowed.includes(level)) return undefined;
  const found = await machinesUnder(ctx.database, level, parsed.id);
  if (!found || !seesSite(ctx.identity.scope, found.sitePath)) return undefined;
  return { level, id: parsed.id, siteId: found.siteId, lineId: found.lineId, timezone: found.timezone, machineIds: found.machineIds, wholeLines: level === "Machine" ? undefined : found.lineIds };
}
