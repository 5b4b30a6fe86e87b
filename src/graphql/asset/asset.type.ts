import { Field, Int, InterfaceType, ObjectType, registerEnumType } from "type-graphql";
import type { AreaRow, EnterpriseRow, LineRow, MachineRow, SiteRow } from "../../assets/asset.queries.js";
import { machineStates } from "../../telemetry/machine-state.js";
import { upperEnum } from "../enum.js";
import { globalId, Node, PageInfo } from "../relay/node.type.js";

/** Fields every level of the ISA-95 hierarchy has; `dbId` stays on the server. */
@InterfaceType("Asset", { implements: Node, description: "A level of the ISA-95 equipment hierarchy." })
export abstract class Asset extends Node {
  dbId!: number;

  @Field(() => String)
  name!: string;
}

@ObjectType("Enterprise", { implements: [Node, Asset] })
export class Enterprise extends Asset {}

@ObjectType("Site", { implements: [Node, Asset] })
export class Site extends Asset {
  enterpriseId!: number;

  @Field(() => String, { description: "IANA time zone of the site's shift calendar." })
  timezone!: string;
}

@ObjectType("Area", { implements: [Node, Asset] })
export class Area extends Asset {
  siteId!: number;
}

@ObjectType("Line", { implements: [Node, Asset] })
export class Line extends Asset {
  areaId!: number;
}

export const MachineStateEnum = upperEnum(machineStates);
registerEnumType(MachineStateEnum, {
  name: "MachineState",
  description: "What a machine is doing: one state at a time, from its state sources by a fixed precedence (calendar, task, connectivity, its own signal; see the README).",
});

@ObjectType("Machine", { implements: [Node, Asset] })
export class Machine extends Asset {
  lineId!: number;

  @Field(() => String, { nullable: true })
  displayName?: string | null;

  @Field(() => String, { description: "enterprise/site/area/line/machine: its place in the Unified Namespace." })
  path!: string;
}

@ObjectType("MachineEdge")
export class MachineEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Machine)
  node!: Machine;
}

@ObjectType("MachineConnection")
export class MachineConnection {
  @Field(() => [MachineEdge])
  edges!: MachineEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: "Machines matching the filter, on all pages." })
  totalCount!: number;
}

export const toEnterprise = (r: EnterpriseRow) =>
  Object.assign(new Enterprise(), { id: globalId("Enterprise", r.id), dbId: r.id, name: r.name });
export const toSite = (r: SiteRow) =>
  Object.assign(new Site(), { id: globalId("Site", r.id), dbId: r.id, name: r.name, timezone: r.timezone, enterpriseId: r.enterpriseId });
export const toArea = (r: AreaRow) =>
  Object.assign(new Area(), { id: globalId("Area", r.id), dbId: r.id, name: r.name, siteId: r.siteId });
export const toLine = (r: LineRow) =>
  Object.assign(new Line(), { id: globalId("Line", r.id), dbId: r.id, name: r.name, areaId: r.areaId });
export const toMachine = (r: MachineRow) =>
  Object.assign(new Machine(), {
    id: globalId("Machine", r.id),
    dbId: r.id,
    name: r.name,
    displayName: r.displayName,
    path: r.path,
    lineId: r.lineId,
  });
