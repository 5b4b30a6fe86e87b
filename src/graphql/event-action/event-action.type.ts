import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import { actionStatuses, type ActionStatus } from "../../../schema/db/events.js";
import { upperEnum } from "../enum.js";
import { IntegrationRef, toIntegrationRef } from "../integration/integration.type.js";
import { connectionTypes } from "../relay/connection.js";
import { UserError } from "../user-error.type.js";
import type { EventActionView } from "./event-action.queries.js";

export const ActionStatusEnum = upperEnum(actionStatuses);
registerEnumType(ActionStatusEnum, { name: "ActionStatus", description: "pending until a worker carries it out; dead when it failed for good." });

@ObjectType("EventSummary", { description: "The event an action was planned for." })
export class EventSummary {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "e.g. alarm.raised." })
  kind!: string;

  @Field(() => String)
  message!: string;

  @Field(() => DateTimeResolver)
  at!: Date;
}

@ObjectType("EventAction", { description: "One planned action of an automation for one event: the unit of work of a job, and the dead letter when it fails for good." })
export class EventAction {
  @Field(() => ID)
  id!: string;

  @Field(() => EventSummary)
  event!: EventSummary;

  @Field(() => IntegrationRef)
  integration!: IntegrationRef;

  @Field(() => String, { description: "create_task, notify, close_task or comment_task." })
  actionType!: string;

  @Field(() => String, { description: "<automation id>.<action key>." })
  actionKey!: string;

  @Field(() => ActionStatusEnum)
  status!: ActionStatus;

  @Field(() => String, { nullable: true, description: "auth, not_found, rejected, rate_limited or transient." })
  errorKind!: string | null;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => Int)
  attempts!: number;

  @Field(() => DateTimeResolver)
  updatedAt!: Date;
}

export const { Edge: EventActionEdge, Connection: EventActionConnection } = connectionTypes(EventAction, "EventAction");

@ObjectType("EventActionPayload")
export class EventActionPayload {
  @Field(() => EventAction, { nullable: true })
  action?: EventAction;

  @Field(() => [UserError])
  errors!: UserError[];
}

export const toEventAction = ({ action, event, integration }: EventActionView) =>
  Object.assign(new EventAction(), {
    id: String(action.id),
    event: Object.assign(new EventSummary(), { ...event, id: String(event.id) }),
    integration: toIntegrationRef(integration),
    actionType: action.actionType,
    actionKey: action.actionKey,
    status: action.status,
    errorKind: action.errorKind,
    lastError: action.lastError,
    attempts: action.attempts,
    updatedAt: action.updatedAt,
  });
