import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import { deadbandTypes, opcuaIdentityKinds, type DeadbandType, type OpcuaIdentityKind, type OpcuaSecurityMode, type OpcuaSecurityPolicy } from "../../../schema/db/opcua.js";
import type { DataGapRow } from "../../opcua/data-gap.queries.js";
import type { BindingRow } from "../../opcua/opcua-binding.service.js";
import type { EndpointRow } from "../../opcua/opcua-endpoint.service.js";
import { upperEnum } from "../enum.js";

export const SecurityModeEnum = { NONE: "None", SIGN: "Sign", SIGN_AND_ENCRYPT: "SignAndEncrypt" } as const satisfies Record<string, OpcuaSecurityMode>;
registerEnumType(SecurityModeEnum, { name: "OpcuaSecurityMode" });
export const SecurityPolicyEnum = {
  NONE: "None",
  BASIC256_SHA256: "Basic256Sha256",
  AES128_SHA256_RSA_OAEP: "Aes128_Sha256_RsaOaep",
  AES256_SHA256_RSA_PSS: "Aes256_Sha256_RsaPss",
} as const satisfies Record<string, OpcuaSecurityPolicy>;
registerEnumType(SecurityPolicyEnum, { name: "OpcuaSecurityPolicy", description: "The current policies; the deprecated Basic128Rsa15 and Basic256 are not offered." });
export const IdentityEnum = upperEnum(opcuaIdentityKinds);
registerEnumType(IdentityEnum, { name: "OpcuaIdentity", description: "ANONYMOUS, USERNAME (password in the secrets) or X509 (certificate and private key in the secrets)." });
export const DeadbandEnum = upperEnum(deadbandTypes);
registerEnumType(DeadbandEnum, { name: "OpcuaDeadband", description: "PERCENT needs the node's EURange on the server." });

@ObjectType("OpcuaEndpoint", { description: "An OPC UA server the hub subscribes to. Its password or X.509 key are stored encrypted and never shown." })
export class OpcuaEndpoint {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true, description: '"enterprise/site" it serves; null: every site.' })
  site!: string | null;

  @Field(() => String, { description: "opc.tcp://host:port[/path]" })
  url!: string;

  @Field(() => SecurityModeEnum)
  securityMode!: OpcuaSecurityMode;

  @Field(() => SecurityPolicyEnum)
  securityPolicy!: OpcuaSecurityPolicy;

  @Field(() => IdentityEnum)
  identity!: OpcuaIdentityKind;

  @Field(() => String, { nullable: true })
  username!: string | null;

  @Field(() => Int)
  publishingIntervalMs!: number;

  @Field(() => Int, { description: "Most monitored items per subscription; the server's advertised limit applies when lower." })
  maxItemsPerSubscription!: number;

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => DateTimeResolver, { nullable: true, description: "Since when the ingest process is subscribed; null while it is not." })
  connectedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Why the last connection failed or ended (an untrusted certificate, a refused identity, an unreachable host)." })
  lastError!: string | null;

  @Field(() => DateTimeResolver, { nullable: true })
  lastErrorAt!: Date | null;

  /** The sealed secrets, for the `secretKeys` field resolver; never a field. */
  sealed!: Pick<EndpointRow, "name" | "secretsCiphertext" | "secretsKeyId">;
}

export const toOpcuaEndpoint = (row: EndpointRow) =>
  Object.assign(new OpcuaEndpoint(), {
    id: String(row.id),
    name: row.name,
    site: row.site,
    url: row.url,
    securityMode: row.securityMode,
    securityPolicy: row.securityPolicy,
    identity: row.identity,
    username: row.username,
    publishingIntervalMs: row.publishingIntervalMs,
    maxItemsPerSubscription: row.maxItemsPerSubscription,
    enabled: row.enabled,
    connectedAt: row.connectedAt,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
    sealed: { name: row.name, secretsCiphertext: row.secretsCiphertext, secretsKeyId: row.secretsKeyId },
  });

@ObjectType("DataGap", { description: "A window in which a source delivered nothing (connection lost, server restarted), with its start and end." })
export class DataGap {
  @Field(() => ID)
  id!: string;

  @Field(() => DateTimeResolver)
  startedAt!: Date;

  @Field(() => DateTimeResolver, { nullable: true, description: "Null while the gap lasts." })
  endedAt!: Date | null;

  @Field(() => String, { description: "Why the data stopped." })
  reason!: string;
}

export const toDataGap = (row: DataGapRow) => Object.assign(new DataGap(), { id: String(row.id), startedAt: row.startedAt, endedAt: row.endedAt, reason: row.reason });

@ObjectType("OpcuaBinding", { description: "Where the hub reads a data point from on an OPC UA server." })
export class OpcuaBinding {
  endpointId!: number;

  @Field(() => String, { nullable: true, description: "NodeId, with its namespace URI (nsu=...)." })
  nodeId!: string | null;

  @Field(() => String, { nullable: true, description: "RelativePath from the Objects folder, resolved at every connect." })
  browsePath!: string | null;

  @Field(() => Int)
  samplingIntervalMs!: number;

  @Field(() => Int)
  queueSize!: number;

  @Field(() => DeadbandEnum)
  deadbandType!: DeadbandType;

  @Field(() => Number)
  deadbandValue!: number;

  @Field(() => String, { nullable: true, description: "Why the server refused this item (BadNodeIdUnknown ...); null once it works." })
  error!: string | null;

  @Field(() => DateTimeResolver, { nullable: true })
  errorAt!: Date | null;
}

export const toOpcuaBinding = (row: BindingRow) =>
  Object.assign(new OpcuaBinding(), {
    endpointId: row.endpointId,
    nodeId: row.nodeId,
    browsePath: row.browsePath,
    samplingIntervalMs: row.samplingIntervalMs,
    queueSize: row.queueSize,
    deadbandType: row.deadbandType,
    deadbandValue: row.deadbandValue,
    error: row.lastError,
    errorAt: row.lastErrorAt,
  });

@ObjectType("OpcuaNode", { description: "A node found by browse: bind a data point to its nodeId." })
export class OpcuaNode {
  @Field(() => String, { description: "With the namespace URI: stable across server restarts." })
  nodeId!: string;

  @Field(() => String, { description: "ns:Name" })
  browseName!: string;

  @Field(() => String)
  displayName!: string;

  @Field(() => String, { description: "Object, Variable, Method ..." })
  nodeClass!: string;

  @Field(() => String, { nullable: true, description: "A variable's built-in type (Double, Int32 ...)." })
  dataType!: string | null;
}
