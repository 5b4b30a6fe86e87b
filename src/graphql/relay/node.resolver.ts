import { Arg, Authorized, Ctx, ID, Query, Resolver } from "type-graphql";
import { toArea, toEnterprise, toLine, toMachine, toSite } from "../asset/asset.type.js";
import type { GraphqlContext } from "../context.js";
import { toDataPoint } from "../data-point/data-point.type.js";
import { areaVisible, enterpriseVisible, lineVisible, machineVisible, siteVisible } from "../scope.js";
import { Node, parseGlobalId } from "./node.type.js";

@Resolver()
export class NodeResolver {
  @Authorized("asset.read")
  @Query(() => Node, { nullable: true, description: "Re-fetches any object by its global id; null when absent or outside your sites." })
  async node(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<Node | undefined> {
    const parsed = parseGlobalId(id);
    if (!parsed) return undefined;
    const { loaders } = ctx;
    switch (parsed.type) {
      case "Enterprise": {
        const row = await loaders.enterprise.load(parsed.id);
        return row && enterpriseVisible(ctx, row.name) ? toEnterprise(row) : undefined;
      }
      case "Site": {
        const row = await loaders.site.load(parsed.id);
        return row && (await siteVisible(ctx, row)) ? toSite(row) : undefined;
      }
      case "Area": {
        const row = await loaders.area.load(parsed.id);
        return row && (await areaVisible(ctx, row)) ? toArea(row) : undefined;
      }
      case "Line": {
        const row = await loaders.line.load(parsed.id);
        return row && (await lineVisible(ctx, row)) ? toLine(row) : undefined;
      }
      case "Machine": {
        const row = await loaders.machine.load(parsed.id);
        return machineVisible(ctx, row) ? toMachine(row) : undefined;
      }
      case "DataPoint": {
        const point = await loaders.dataPoint.load(parsed.id);
        const machine = point && (await loaders.machine.load(point.machineId));
        return point && machineVisible(ctx, machine) ? toDataPoint(point, machine.path) : undefined;
      }
    }
  }
}
