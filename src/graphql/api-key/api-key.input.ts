import { DateTimeResolver } from "graphql-scalars";
import { Field, InputType, ObjectType } from "type-graphql";
import type { AccessRole } from "../../auth/identity.js";
import { UserError } from "../user-error.type.js";
import { AccessRoleEnum, ApiKey } from "./api-key.type.js";

@InputType("CreateApiKeyInput")
export class CreateApiKeyInput {
  @Field(() => String)
  name!: string;

  @Field(() => AccessRoleEnum)
  role!: AccessRole;

  @Field(() => [String], { nullable: true, description: "\"enterprise/site\" paths the key may see; null or absent: every site." })
  sites?: string[] | null;

  @Field(() => DateTimeResolver, { nullable: true, description: "When the key stops working; absent: never." })
  expiresAt?: Date | null;
}

@ObjectType("CreateApiKeyPayload")
export class CreateApiKeyPayload {
  @Field(() => ApiKey, { nullable: true })
  apiKey?: ApiKey;

  @Field(() => String, { nullable: true, description: "The key to send as `Authorization: Bearer <key>`. Shown this once only." })
  key?: string;

  @Field(() => [UserError])
  errors!: UserError[];
}

@ObjectType("RevokeApiKeyPayload")
export class RevokeApiKeyPayload {
  @Field(() => ApiKey, { nullable: true })
  apiKey?: ApiKey;

  @Field(() => [UserError])
  errors!: UserError[];
}
