import { Field, ID, InputType, ObjectType } from "type-graphql";
import { JSONResolver } from "graphql-scalars";
import { UserError } from "../user-error.type.js";
import { Integration } from "./integration.type.js";

@InputType("CreateIntegrationInput")
export class CreateIntegrationInput {
  @Field(() => String, { description: "The connector, e.g. jira or webhook." })
  kind!: string;

  @Field(() => String, { description: "Unique among integrations." })
  name!: string;

  @Field(() => String, { nullable: true, description: '"enterprise/site" it serves; absent: every site (needs access to every site).' })
  site?: string | null;

  @Field(() => JSONResolver, { nullable: true, description: "Settings that may be shown (no credentials)." })
  config?: unknown;

  @Field(() => JSONResolver, { nullable: true, description: 'Credentials, an object of strings, e.g. {"apiToken": "..."}; stored encrypted, never shown.' })
  secrets?: unknown;

  @Field(() => Boolean, { defaultValue: true, description: "Check the settings with the tool before saving (one cheap call); false skips the call, not the validation." })
  verify!: boolean;
}

@InputType("UpdateIntegrationInput", { description: "Replaces the config and/or all secrets; absent fields stay as they are." })
export class UpdateIntegrationInput {
  @Field(() => ID)
  id!: string;

  @Field(() => JSONResolver, { nullable: true })
  config?: unknown;

  @Field(() => JSONResolver, { nullable: true, description: "Replaces every stored secret." })
  secrets?: unknown;

  @Field(() => Boolean, { defaultValue: true, description: "Check the settings with the tool before saving; false skips the call, not the validation." })
  verify!: boolean;
}

@ObjectType("IntegrationPayload")
export class IntegrationPayload {
  @Field(() => Integration, { nullable: true })
  integration?: Integration;

  @Field(() => [UserError])
  errors!: UserError[];
}
