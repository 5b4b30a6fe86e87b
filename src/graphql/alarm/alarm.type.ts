import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import { alarmStates, type AlarmState, type Severity } from "../../../schema/db/events.js";
import { isShelved } from "../../alarms/alarm.service.js";
import { upperEnum } from "../enum.js";
import { connectionTypes } from "../relay/connection.js";
import { SeverityEnum } from "../rule/rule.type.js";
import { UserError } from "../user-error.type.js";
import type { AlarmWithRule } from "./alarm.queries.js";

export const AlarmStateEnum = upperEnum(alarmStates);
registerEnumType(AlarmStateEnum, { name: "AlarmState", description: "active → acknowledged → cleared." });

@ObjectType("AlarmRule", { description: "The rule that raised an alarm, at the version it had then." })
export class AlarmRule {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Int, { description: "The rule's version when it raised the alarm." })
  version!: number;
}

@ObjectType("Alarm", { description: "An alarm a rule raised on a machine; at most one is open per machine and rule." })
export class Alarm {
  @Field(() => ID)
  id!: string;

  dbId!: number;
  machineId!: number;

  @Field(() => AlarmRule)
  rule!: AlarmRule;

  @Field(() => SeverityEnum)
  severity!: Severity;

  @Field(() => AlarmStateEnum)
  state!: AlarmState;

  @Field(() => Boolean, { description: "The rule's condition still holds." })
  conditionActive!: boolean;

  @Field(() => Boolean, { description: "Shelved now: its events start no actions until shelvedUntil." })
  shelved!: boolean;

  @Field(() => DateTimeResolver, { nullable: true })
  shelvedUntil!: Date | null;

  @Field(() => String, { nullable: true })
  shelvedBy!: string | null;

  @Field(() => String, { nullable: true })
  shelveReason!: string | null;

  @Field(() => String)
  message!: string;

  @Field(() => Float, { nullable: true, description: "The value that raised it last." })
  value!: number | null;

  @Field(() => DateTimeResolver)
  raisedAt!: Date;

  @Field(() => Int, { description: "Raises folded into this alarm." })
  raiseCount!: number;

  @Field(() => DateTimeResolver, { nullable: true })
  acknowledgedAt!: Date | null;

  @Field(() => String, { nullable: true })
  acknowledgedBy!: string | null;

  @Field(() => DateTimeResolver, { nullable: true })
  clearedAt!: Date | null;
}

export const { Edge: AlarmEdge, Connection: AlarmConnection } = connectionTypes(Alarm, "Alarm");

@ObjectType("AlarmPayload")
export class AlarmPayload {
  @Field(() => Alarm, { nullable: true })
  alarm?: Alarm;

  @Field(() => [UserError])
  errors!: UserError[];
}

export const toAlarm = ({ alarm, ruleName }: AlarmWithRule) =>
  Object.assign(new Alarm(), {
    id: String(alarm.id),
    dbId: alarm.id,
    machineId: alarm.machineId,
    rule: Object.assign(new AlarmRule(), { id: String(alarm.ruleId), name: ruleName, version: alarm.ruleVersion }),
    severity: alarm.severity,
    state: alarm.state,
    conditionActive: alarm.conditionActive,
    shelved: isShelved(alarm, new Date()),
    shelvedUntil: alarm.shelvedUntil,
    shelvedBy: alarm.shelvedBy,
    shelveReason: alarm.shelveReason,
    message: alarm.message,
    value: alarm.value,
    raisedAt: alarm.raisedAt,
    raiseCount: alarm.raiseCount,
    acknowledgedAt: alarm.acknowledgedAt,
    acknowledgedBy: alarm.acknowledgedBy,
    clearedAt: alarm.clearedAt,
  });
