import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { securityActions, type SecurityAction } from "../../auth/security-events.js";
import { upperEnum } from "../enum.js";
import { PageInfo } from "../relay/node.type.js";

export const SecurityActionEnum = upperEnum(securityActions);
registerEnumType(SecurityActionEnum, { name: "SecurityAction" });

@ObjectType("SecurityEvent", { description: "A security-relevant action: a failed sign-in, a key created or revoked, a denied operation." })
export class SecurityEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => DateTimeResolver)
  at!: Date;

  @Field(() => SecurityActionEnum)
  action!: SecurityAction;

  @Field(() => String, { description: "user:<subject>, key:<id>, cli or anonymous." })
  actor!: string;

  @Field(() => String, { description: "success, failure or denied." })
  outcome!: string;

  @Field(() => String, { nullable: true })
  resource?: string | null;

  @Field(() => JSONResolver)
  detail!: Record<string, unknown>;

  @Field(() => String, { nullable: true })
  requestId?: string | null;
}

@ObjectType("SecurityEventEdge")
export class SecurityEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => SecurityEvent)
  node!: SecurityEvent;
}

@ObjectType("SecurityEventConnection")
export class SecurityEventConnection {
  @Field(() => [SecurityEventEdge])
  edges!: SecurityEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
