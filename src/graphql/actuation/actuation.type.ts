import { Field, Float, ID, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import { actuationStatuses, type ActuationStatus } from "../../../schema/db/actuation.js";
import { upperEnum } from "../enum.js";
import { connectionTypes } from "../relay/connection.js";
import { UserError } from "../user-error.type.js";
import type { ActuationWithPoint } from "./actuation.queries.js";

export const ActuationStatusEnum = upperEnum(actuationStatuses);
registerEnumType(ActuationStatusEnum, {
  name: "ActuationStatus",
  description: "REFUSED or DRY_RUN at once; PENDING_APPROVAL (critical points) → APPROVED or REFUSED; APPROVED → SENT → CONFIRMED, MISMATCH or FAILED.",
});

@ObjectType("Actuation", { description: "A setpoint write: who asked for which value and why, who approved it, and what the machine then reported." })
export class Actuation {
  @Field(() => ID)
  id!: string;

  dbId!: number;
  machineId!: number;

  @Field(() => String, { description: "The data point written." })
  point!: string;

  @Field(() => Float)
  value!: number;

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

  @Field(() => String, { nullable: true, description: "Why it was refused or failed, or what the read-back found." })
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

export const toActuation = ({ request, point }: ActuationWithPoint): Actuation =>
  Object.assign(new Actuation(), {
    id: String(request.id),
    dbId: request.id,
    machineId: request.machineId,
    point,
    value: request.value,
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
