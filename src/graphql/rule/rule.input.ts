import { Field, ID, InputType } from "type-graphql";
import { JSONObjectResolver } from "graphql-scalars";
import type { Severity } from "../../../schema/db/events.js";
import { SeverityEnum } from "./rule.type.js";

@InputType("SaveRuleInput", { description: "Creates the machine's rule of this name, or brings it in line (its version goes up only on a real change)." })
export class SaveRuleInput {
  @Field(() => ID)
  machineId!: string;

  @Field(() => String, { description: "The data point's name on that machine." })
  dataPoint!: string;

  @Field(() => String, { description: "1-63 letters, digits, '_', '.' or '-'; unique on the machine." })
  name!: string;

  @Field(() => SeverityEnum, { nullable: true, description: "WARNING when absent." })
  severity?: Severity;

  @Field(() => Boolean, { nullable: true, description: "true when absent." })
  enabled?: boolean;

  @Field(() => JSONObjectResolver, { description: 'e.g. {"kind": "threshold", "condition": "above", "limit": 80, "forSeconds": 30}.' })
  params!: Record<string, unknown>;
}
