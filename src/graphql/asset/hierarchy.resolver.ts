import { Authorized, Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import { seesSite } from "../../auth/identity.js";
import { listEnterprises } from "../../assets/asset.queries.js";
import type { GraphqlContext } from "../context.js";
import { enterpriseVisible } from "../scope.js";
import { Area, Enterprise, Line, Machine, Site, toArea, toEnterprise, toLine, toMachine, toSite } from "./asset.type.js";

@Resolver(() => Enterprise)
export class EnterpriseResolver {
  @Authorized("asset.read")
  @Query(() => [Enterprise], { description: "The ISA-95 hierarchy from the top: enterprise → site → area → line → machine." })
  async enterprises(@Ctx() ctx: GraphqlContext): Promise<Enterprise[]> {
    return (await listEnterprises(ctx.database.db)).filter((e) => enterpriseVisible(ctx, e.name)).map(toEnterprise);
  }

  @FieldResolver(() => [Site], { description: "The sites of this enterprise you may see." })
  async sites(@Root() enterprise: Enterprise, @Ctx() ctx: GraphqlContext): Promise<Site[]> {
    const sites = await ctx.loaders.sitesOfEnterprise.load(enterprise.dbId);
    return sites.filter((site) => seesSite(ctx.identity.scope, `${enterprise.name}/${site.name}`)).map(toSite);
  }
}

@Resolver(() => Site)
export class SiteResolver {
  @FieldResolver(() => Enterprise)
  async enterprise(@Root() site: Site, @Ctx() ctx: GraphqlContext): Promise<Enterprise> {
    return toEnterprise((await ctx.loaders.enterprise.load(site.enterpriseId))!);
  }

  @FieldResolver(() => [Area])
  async areas(@Root() site: Site, @Ctx() ctx: GraphqlContext): Promise<Area[]> {
    return (await ctx.loaders.areasOfSite.load(site.dbId)).map(toArea);
  }
}

@Resolver(() => Area)
export class AreaResolver {
  @FieldResolver(() => Site)
  async site(@Root() area: Area, @Ctx() ctx: GraphqlContext): Promise<Site> {
    return toSite((await ctx.loaders.site.load(area.siteId))!);
  }

  @FieldResolver(() => [Line])
  async lines(@Root() area: Area, @Ctx() ctx: GraphqlContext): Promise<Line[]> {
    return (await ctx.loaders.linesOfArea.load(area.dbId)).map(toLine);
  }
}

@Resolver(() => Line)
export class LineResolver {
  @FieldResolver(() => Area)
  async area(@Root() line: Line, @Ctx() ctx: GraphqlContext): Promise<Area> {
    return toArea((await ctx.loaders.area.load(line.areaId))!);
  }

  @FieldResolver(() => [Machine])
  async machines(@Root() line: Line, @Ctx() ctx: GraphqlContext): Promise<Machine[]> {
    return (await ctx.loaders.machinesOfLine.load(line.dbId)).map(toMachine);
  }
}
