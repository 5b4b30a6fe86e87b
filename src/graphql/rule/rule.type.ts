import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver, JSONObjectResolver } from "graphql-scalars";
import { severities, type Severity } from "../../../schema/db/events.js";
import type { RuleRow } from "../../rules/rule.service.js";
import { upperEnum } from "../enum.js";
import { UserError } from "../user-error.type.js";

export const SeverityEnum = upperEnum(severities);
registerEnumType(SeverityEnum, { name: "Severity", description: "How serious an alarm of a rule is." });

@ObjectType("Rule", { description: "A rule on one data point of a machine; its alarms record the version that raised them." })
export class Rule {
  @Field(() => ID)
  id!: string;

  dbId!: number;
  machineId!: number;
  dataPointId!: number;

  @Field(() => String, { description: "Unique on its machine." })
  name!: string;

  @Field(() => String, { description: "threshold, deviation, rate, stale, trend or counter (from params.kind)." })
  kind!: string;

  @Field(() => SeverityEnum)
  severity!: Severity;

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => Int, { description: "Goes up on every real change." })
  version!: number;

  @Field(() => JSONObjectResolver, { description: "The rule's parameters, defaults filled in." })
  params!: Record<string, unknown>;

  @Field(() => DateTimeResolver)
  createdAt!: Date;

  @Field(() => DateTimeResolver)
  updatedAt!: Date;
}

@ObjectType("RulePayload")
export class RulePayload {
  @Field(() => Rule, { nullable: true })
  rule?: Rule;

  @Field(() => [UserError])
  errors!: UserError[];
}

export const toRule = (row: RuleRow) =>
  Object.assign(new Rule(), {
    id: String(row.id),
    dbId: row.id,
    machineId: row.machineId,
    dataPointId: row.dataPointId,
    name: row.name,
    kind: row.kind,
    severity: row.severity,
    enabled: row.enabled,
    version: row.version,
    params: row.params,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  });
