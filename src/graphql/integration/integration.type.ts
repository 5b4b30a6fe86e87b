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

  @Field(() => DateTimeResolver, { nullable: true, description: "When a call to the tool last worked." })
  lastSuccessAt!: Date | null;

  @Field(() => DateTimeResolver, { nullable: true, description: "When a call to the tool last failed." })
  lastErrorAt!: Date | null;

  @Field(() => String, { nullable: true, description: "What the last failed call said." })
  lastError!: string | null;

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
    lastSuccessAt: row.lastSuccessAt,
    lastErrorAt: row.lastErrorAt,
    lastError: row.lastError,
    sealed: { name: row.name, secretsCiphertext: row.secretsCiphertext, secretsKeyId: row.secretsKeyId },
  });

@ObjectType("IntegrationRef", { description: "Which integration: enough to name it, nothing of its settings." })
export class IntegrationRef {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "The connector, e.g. jira or builtin." })
  kind!: string;
}

export const toIntegrationRef = (row: { id: number; name: string; kind: string }) =>
  Object.assign(new IntegrationRef(), { id: String(row.id), name: row.name, kind: row.kind });
