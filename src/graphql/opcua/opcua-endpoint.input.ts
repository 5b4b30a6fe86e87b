import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { JSONResolver } from "graphql-scalars";
import type { DeadbandType, OpcuaIdentityKind, OpcuaSecurityMode, OpcuaSecurityPolicy } from "../../../schema/db/opcua.js";
import { DataPoint } from "../data-point/data-point.type.js";
import { UserError } from "../user-error.type.js";
import { DeadbandEnum, IdentityEnum, OpcuaEndpoint, OpcuaNode, SecurityModeEnum, SecurityPolicyEnum } from "./opcua-endpoint.type.js";

/** The settings both mutations take; absent ones keep their default (create) or current value (update). */

@InputType("OpcuaEndpointSettingsInput")
class OpcuaEndpointSettingsInput {
  @Field(() => String, { nullable: true, description: '"enterprise/site" it serves; null: every site (needs access to every site).' })
  site?: string | null;

  @Field(() => SecurityModeEnum, { nullable: true, description: "Default: SIGN_AND_ENCRYPT." })
  securityMode?: OpcuaSecurityMode;

  @Field(() => SecurityPolicyEnum, { nullable: true, description: "Default: BASIC256_SHA256, or NONE with security mode NONE." })
  securityPolicy?: OpcuaSecurityPolicy;

  @Field(() => IdentityEnum, { nullable: true, description: "Default: ANONYMOUS." })
  identity?: OpcuaIdentityKind;

  @Field(() => String, { nullable: true, description: "The user name of the USERNAME identity." })
  username?: string | null;

  @Field(() => JSONResolver, { nullable: true, description: '{"password"} for USERNAME, {"certificate", "privateKey"} (PEM) for X509; replaces every stored secret; stored encrypted, never shown.' })
  secrets?: unknown;

  @Field(() => Int, { nullable: true, description: "Default: 1000." })
  publishingIntervalMs?: number;

  @Field(() => Int, { nullable: true, description: "Default: 1000; the server's advertised limit applies when lower." })
  maxItemsPerSubscription?: number;

  @Field(() => Boolean, { nullable: true, description: "Default: true." })
  enabled?: boolean;
}

@InputType("CreateOpcuaEndpointInput")
export class CreateOpcuaEndpointInput extends OpcuaEndpointSettingsInput {
  @Field(() => String, { description: "Unique among endpoints; plant files bind to it by name." })
  name!: string;

  @Field(() => String, { description: "opc.tcp://host:port[/path]" })
  url!: string;
}

@InputType("UpdateOpcuaEndpointInput", { description: "Fields given replace the current ones; secrets given replace every stored secret." })
export class UpdateOpcuaEndpointInput extends OpcuaEndpointSettingsInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  url?: string;
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
