import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import type { IntegrationRow } from "../../integrations/integration.service.js";

@ObjectType("Integration", { description: "A connection to an external work tool. Its secrets are stored encrypted and never shown." })
export class Integration {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The connector, e.g. jira or webhook." })
  kind!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true, description: '"enterprise/site" it serves; null: every site.' })
  site!: string | null;

  @Field(() => JSONResolver, { description: "Settings that may be shown; credentials live in the secrets." })
  config!: Record<string, unknown>;

  @Field(() => DateTimeResolver)
  updatedAt!: Date;

  /** The sealed secrets, for the `secretKeys` field resolver; never a field. */
  sealed!: Pick<IntegrationRow, "name" | "secretsCiphertext" | "secretsKeyId">;
}

export const toIntegration = (row: IntegrationRow) =>
  Object.assign(new Integration(), {
    id: String(row.id),
    kind: row.kind,
    name: row.name,
    site: row.site,
    config: row.config,
    updatedAt: row.updatedAt,
    sealed: { name: row.name, secretsCiphertext: row.secretsCiphertext, secretsKeyId: row.secretsKeyId },
  });
