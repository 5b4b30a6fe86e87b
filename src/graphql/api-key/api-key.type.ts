import { DateTimeResolver } from "graphql-scalars";
import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import type { ApiKeyRow } from "../../auth/api-key.service.js";
import { accessRoles, type AccessRole } from "../../auth/identity.js";
import { upperEnum } from "../enum.js";

export const AccessRoleEnum = upperEnum(accessRoles);
registerEnumType(AccessRoleEnum, { name: "AccessRole", description: "What an identity may do; see the permission matrix in README.md." });

@ObjectType("ApiKey", { description: "A key for a machine or an integration. Its secret is shown once, at creation." })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "Public part of the key (pgk_<prefix>_...), to tell keys apart." })
  prefix!: string;

  @Field(() => AccessRoleEnum)
  role!: AccessRole;

  @Field(() => [String], { nullable: true, description: "\"enterprise/site\" paths the key may see; null: every site." })
  sites?: string[] | null;

  @Field(() => DateTimeResolver)
  createdAt!: Date;

  @Field(() => String, { description: "Who created it: \"user:<sub>\", \"key:<id>\", \"cli\" or \"system\"." })
  createdBy!: string;

  @Field(() => DateTimeResolver, { nullable: true })
  expiresAt?: Date | null;

  @Field(() => DateTimeResolver, { nullable: true, description: "Last successful use, to the minute." })
  lastUsedAt?: Date | null;

  @Field(() => DateTimeResolver, { nullable: true })
  revokedAt?: Date | null;
}

export const toApiKey = (row: ApiKeyRow) => Object.assign(new ApiKey(), { ...row, id: String(row.id) });
