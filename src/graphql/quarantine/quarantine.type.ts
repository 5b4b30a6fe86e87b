import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { quarantineReasons, type QuarantineReason } from "../../telemetry/sample.js";
import { upperEnum } from "../enum.js";
import { PageInfo } from "../relay/node.type.js";

export const QuarantineReasonEnum = upperEnum(quarantineReasons);
registerEnumType(QuarantineReasonEnum, { name: "QuarantineReason", description: "Why a message did not become a reading." });

@ObjectType("QuarantinedMessage", { description: "A message, or one field of it, that the hub refused; kept with the reason." })
export class QuarantinedMessage {
  @Field(() => ID)
  id!: string;

  @Field(() => DateTimeResolver)
  receivedAt!: Date;

  @Field(() => String, { description: "The source kind, e.g. mqtt." })
  source!: string;

  @Field(() => String)
  topic!: string;

  @Field(() => String, { description: "The payload as received (first 4 KiB)." })
  payload!: string;

  @Field(() => JSONResolver, { nullable: true, description: "The payload parsed, when it is JSON at all." })
  json?: unknown;

  @Field(() => QuarantineReasonEnum)
  reason!: QuarantineReason;

  @Field(() => String, { description: "What exactly was wrong." })
  detail!: string;
}

@ObjectType("QuarantineEdge")
export class QuarantineEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => QuarantinedMessage)
  node!: QuarantinedMessage;
}

@ObjectType("QuarantineConnection")
export class QuarantineConnection {
  @Field(() => [QuarantineEdge])
  edges!: QuarantineEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@ObjectType("QuarantineCount")
export class QuarantineCount {
  @Field(() => JSONResolver, { nullable: true, description: "The payload parsed, when it is JSON at all." })
  json?: unknown;

  @Field(() => QuarantineReasonEnum)
  reason!: QuarantineReason;

  @Field(() => Int)
  count!: number;
}
