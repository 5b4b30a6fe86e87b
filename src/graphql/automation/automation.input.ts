import { Field, InputType, Int } from "type-graphql";
import { JSONResolver } from "graphql-scalars";
import type { AutomationTrigger } from "../../automations/automation.schema.js";
import { AutomationTriggerEnum } from "./automation.type.js";

@InputType("SaveAutomationInput", { description: "Creates the automation of this name, or brings it in line (its version goes up only on a real change)." })
export class SaveAutomationInput {
  @Field(() => String)
  name!: string;

  @Field(() => AutomationTriggerEnum)
  trigger!: AutomationTrigger;

  @Field(() => JSONResolver, { nullable: true, description: 'e.g. {"sites": ["acme/berlin"], "severities": ["critical"]}; none when absent.' })
  conditions?: unknown;

  @Field(() => JSONResolver, { description: 'e.g. [{"type": "create_task", "key": "ticket", "integration": "jira-main", "title": "{{event.message}}"}].' })
  actions!: unknown;

  @Field(() => Int, { nullable: true, description: "0 when absent." })
  cooldownSeconds?: number;

  @Field(() => Boolean, { nullable: true, description: "true when absent." })
  enabled?: boolean;
}
