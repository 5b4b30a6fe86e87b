import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { JSONResolver } from "graphql-scalars";
import type { DeadbandType, OpcuaIdentityKind, OpcuaSecurityMode, OpcuaSecurityPolicy } from "../../../schema/db/opcua.js";
import { DataPoint } from "../data-point/data-point.type.js";
import { UserError } from "../user-error.type.js";
import { DeadbandEnum, IdentityEnum, OpcuaEndpoint, OpcuaNode, SecurityModeEnum, SecurityPolicyEnum } from "./opcua-endpoint.type.js";

@InputType("CreateOpcuaEndpointInput")
export class CreateOpcuaEndpointInput {
  @Field(() => String, { description: "Unique among endpoints; plant files bind to it by name." })
  name!: string;

  @Field(() => String, { nullable: true, description: '"enterprise/site" it serves; absent: every site (needs access to every site).' })
  site?: string | null;

  @Field(() => String)
  url!: string;

  @Field(() => SecurityModeEnum, { defaultValue: "SignAndEncrypt" })
  securityMode!: OpcuaSecurityMode;

  @Field(() => SecurityPolicyEnum, { nullable: true, description: "Default: BASIC256_SHA256, or NONE with security mode NONE." })
  securityPolicy?: OpcuaSecurityPolicy;

  @Field(() => IdentityEnum, { defaultValue: "anonymous" })
  identity!: OpcuaIdentityKind;

  @Field(() => String, { nullable: true })
  username?: string | null;

  @Field(() => JSONResolver, { nullable: true, description: '{"password"} for USERNAME, {"certificate", "privateKey"} (PEM) for X509; stored encrypted, never shown.' })
  secrets?: unknown;

  @Field(() => Int, { nullable: true })
  publishingIntervalMs?: number;

  @Field(() => Int, { nullable: true })
  maxItemsPerSubscription?: number;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean;
}

@InputType("UpdateOpcuaEndpointInput", { description: "Fields given replace the current ones; secrets given replace every stored secret." })
export class UpdateOpcuaEndpointInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  site?: string | null;

  @Field(() => String, { nullable: true })
  url?: string;

  @Field(() => SecurityModeEnum, { nullable: true })
  securityMode?: OpcuaSecurityMode;

  @Field(() => SecurityPolicyEnum, { nullable: true })
  securityPolicy?: OpcuaSecurityPolicy;

  @Field(() => IdentityEnum, { nullable: true })
  identity?: OpcuaIdentityKind;

  @Field(() => String, { nullable: true })
  username?: string | null;

  @Field(() => JSONResolver, { nullable: true })
  secrets?: unknown;

  @Field(() => Int, { nullable: true })
  publishingIntervalMs?: number;

  @Field(() => Int, { nullable: true })
  maxItemsPerSubscription?: number;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean;
}

@ObjectType("OpcuaEndpointPayload")
export class OpcuaEndpointPayload {
  @Field(() => OpcuaEndpoint, { nullable: true })
  endpoint?: OpcuaEndpoint;

  @Field(() => [UserError])
  errors!: UserError[];
}

@InputType("SetOpcuaBindingInput", { description: "Binds a data point to a node: exactly one of nodeId and browsePath." })
export class SetOpcuaBindingInput {
  @Field(() => ID)
  dataPointId!: string;

  @Field(() => ID)
  endpointId!: string;

  @Field(() => String, { nullable: true, description: "Prefer nsu=<namespace URI>;... : indexes can change when the server restarts." })
  nodeId?: string;

  @Field(() => String, { nullable: true })
  browsePath?: string;

  @Field(() => Int, { defaultValue: 1000 })
  samplingIntervalMs!: number;

  @Field(() => Int, { defaultValue: 1 })
  queueSize!: number;

  @Field(() => DeadbandEnum, { defaultValue: "none" })
  deadbandType!: DeadbandType;

  @Field(() => Number, { defaultValue: 0 })
  deadbandValue!: number;
}

@ObjectType("OpcuaBindingPayload")
export class OpcuaBindingPayload {
  @Field(() => DataPoint, { nullable: true })
  dataPoint?: DataPoint;

  @Field(() => [UserError])
  errors!: UserError[];
}

@ObjectType("OpcuaBrowseResult")
export class OpcuaBrowseResult {
  @Field(() => [OpcuaNode])
  nodes!: OpcuaNode[];

  @Field(() => [UserError], { description: "An unknown endpoint or node, or a server that cannot be reached." })
  errors!: UserError[];
}
