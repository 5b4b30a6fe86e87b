import { Field, Float, ID, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { actuationStatuses, type ActuationStatus } from "../../../schema/db/actuation.js";
import { upperEnum } from "../enum.js";
import { connectionTypes } from "../relay/connection.js";
import { UserError } from "../user-error.type.js";
import type { ActuationWithPoint } from "./actuation.queries.js";

export const ActuationStatusEnum = upperEnum(actuationStatuses);
registerEnumType(ActuationStatusEnum, {
  name: "ActuationStatus",
  description:
    "REFUSED or DRY_RUN at once; PENDING_APPROVAL (critical targets) → APPROVED or REFUSED; APPROVED → SENT → CONFIRMED, MISMATCH or FAILED. A method call over MQTT or Sparkplug ends SENT: delivered, with no answer to wait for.",
});

@ObjectType("Actuation", { description: "A setpoint write or method call: who asked for what and why, who approved it, and what the machine then reported." })
export class Actuation {
  @Field(() => ID)
  id!: string;

  dbId!: number;
  machineId!: number;

  @Field(() => String, { nullable: true, description: "The data point written (a setpoint write)." })
  point!: string | null;

  @Field(() => Float, { nullable: true, description: "The value written (a setpoint write)." })
  value!: number | null;

  @Field(() => String, { nullable: true, description: "The method called (a method call)." })
  method!: string | null;

  @Field(() => JSONResolver, { nullable: true, description: "The method's arguments (a method call)." })
  arguments!: Record<string, unknown> | null;

  @Field(() => Boolean, { description: "Checked only, never sent." })
  dryRun!: boolean;

  @Field(() => ActuationStatusEnum)
  status!: ActuationStatus;

  @Field(() => String)
  requestedBy!: string;

  @Field(() => String)
  reason!: string;

  @Field(() => String, { nullable: true, description: "Who approved or rejected it." })
  decidedBy!: string | null;

  @Field(() => DateTimeResolver, { nullable: true })
  decidedAt!: Date | null;

  @Field(() => Float, { nullable: true, description: "The point's latest value when the write was checked." })
  beforeValue!: number | null;

  @Field(() => Float, { nullable: true, description: "What the machine reported after the write." })
  afterValue!: number | null;

  @Field(() => String, { nullable: true, description: "Why it was refused or failed, what the read-back found, or an OPC UA method's output arguments (a JSON object by name)." })
  detail!: string | null;

  @Field(() => DateTimeResolver)
  createdAt!: Date;

  @Field(() => DateTimeResolver, { nullable: true })
  sentAt!: Date | null;

  @Field(() => DateTimeResolver, { nullable: true })
  finishedAt!: Date | null;
}

export const { Edge: ActuationEdge, Connection: ActuationConnection } = connectionTypes(Actuation, "Actuation");

@ObjectType("ActuationPayload")
export class ActuationPayload {
  @Field(() => Actuation, { nullable: true })
  actuation?: Actuation;

  @Field(() => [UserError])
  errors!: UserError[];
}

export const toActuation = ({ request, point, method }: ActuationWithPoint): Actuation =>
  Object.assign(new Actuation(), {
    id: String(request.id),
    dbId: request.id,
    machineId: request.machineId,
    point,
    value: request.value,
    method,
    arguments: request.arguments,
    dryRun: request.dryRun,
    status: request.status,
    requestedBy: request.requestedBy,
    reason: request.reason,
    decidedBy: request.decidedBy,
    decidedAt: request.decidedAt,
    beforeValue: request.beforeValue,
    afterValue: request.afterValue,
    detail: request.detail,
    createdAt: request.createdAt,
    sentAt: request.sentAt,
    finishedAt: request.finishedAt,
  });
