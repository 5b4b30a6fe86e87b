import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { automationTriggers, type AutomationTrigger } from "../../automations/automation.schema.js";
import type { AutomationRow } from "../../automations/automation.service.js";
import { upperEnum } from "../enum.js";
import { UserError } from "../user-error.type.js";

export const AutomationTriggerEnum = upperEnum(automationTriggers);
registerEnumType(AutomationTriggerEnum, { name: "AutomationTrigger", description: "The kind of event that starts an automation." });

@ObjectType("Automation", { description: "Trigger + conditions → actions, plant-wide." })
export class Automation {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => AutomationTriggerEnum)
  trigger!: AutomationTrigger;

  @Field(() => JSONResolver, { description: "Sites, lines, machines, severities, rules, states, timeOfDay the event must match." })
  conditions!: unknown;

  @Field(() => JSONResolver, { description: "The actions (create_task, notify, close_task, comment_task, actuate, next_lot), in order." })
  actions!: unknown;

  @Field(() => Int, { description: "After acting for a machine, skip its further events for this long." })
  cooldownSeconds!: number;

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => Int, { description: "Goes up on every real change; planned actions record it." })
  version!: number;

  @Field(() => DateTimeResolver)
  updatedAt!: Date;
}

@ObjectType("AutomationPayload")
export class AutomationPayload {
  @Field(() => Automation, { nullable: true })
  automation?: Automation;

  @Field(() => [UserError])
  errors!: UserError[];
}

export const toAutomation = (row: AutomationRow) =>
  Object.assign(new Automation(), {
    id: String(row.id),
    name: row.name,
    trigger: row.trigger as AutomationTrigger,
    conditions: row.conditions,
    actions: row.actions,
    cooldownSeconds: row.cooldownSeconds,
    enabled: row.enabled,
    version: row.version,
    updatedAt: row.updatedAt,
  });
