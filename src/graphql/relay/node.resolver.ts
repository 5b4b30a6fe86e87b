import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import { toArea, toEnterprise, toLine, toMachine, toSite } from "../asset/asset.type.js";
import type { GraphqlContext } from "../context.js";
import { toDataPoint } from "../data-point/data-point.type.js";
import { Node, parseGlobalId } from "./node.type.js";

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: "Re-fetches any object by its global id." })
  async node(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<Node | undefined> {
    const parsed = parseGlobalId(id);
    if (!parsed) return undefined;
    const { loaders } = ctx;
    switch (parsed.type) {
      case "Enterprise":
        return mapped(await loaders.enterprise.load(parsed.id), toEnterprise);
      case "Site":
        return mapped(await loaders.site.load(parsed.id), toSite);
      case "Area":
        return mapped(await loaders.area.load(parsed.id), toArea);
      case "Line":
        return mapped(await loaders.line.load(parsed.id), toLine);
      case "Machine":
        return mapped(await loaders.machine.load(parsed.id), toMachine);
      case "DataPoint": {
        const point = await loaders.dataPoint.load(parsed.id);
        const machine = point && (await loaders.machine.load(point.machineId));
        return point && machine ? toDataPoint(point, machine.path) : undefined;
      }
    }
  }
}

const mapped = <Row, T>(row: Row | undefined, map: (row: Row) => T): T | undefined => (row ? map(row) : undefined);
