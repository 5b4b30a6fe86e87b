import { Args, ArgsType, Authorized, Ctx, Field, Int, Query, Resolver } from "type-graphql";
import { pageSecurityEvents, type SecurityEventRow } from "../../auth/security-event.queries.js";
import type { SecurityAction } from "../../auth/security-events.js";
import type { GraphqlContext } from "../context.js";
import { pageOf } from "../relay/connection.js";
import { decodeIdCursor, pageSize } from "../relay/node.type.js";
import { SecurityActionEnum, SecurityEvent, SecurityEventConnection, SecurityEventEdge } from "./security-event.type.js";

@ArgsType()
export class SecurityEventsArgs {
  @Field(() => Int, { defaultValue: 50, description: "Page size, at most 500." })
  first!: number;

  @Field(() => String, { nullable: true })
  after?: string;

  @Field(() => SecurityActionEnum, { nullable: true })
  action?: SecurityAction;

  @Field(() => String, { nullable: true, description: "Exact actor, e.g. key:12." })
  actor?: string;
}

@Resolver()
export class SecurityEventResolver {
  @Authorized("security_event.read")
  @Query(() => SecurityEventConnection, { description: "The security event log, newest first." })
  async securityEvents(@Args(() => SecurityEventsArgs) args: SecurityEventsArgs, @Ctx() ctx: GraphqlContext): Promise<SecurityEventConnection> {
    const limit = pageSize(args.first);
    const beforeId = decodeIdCursor(args.after);
    const rows = await pageSecurityEvents(ctx.database.db, { action: args.action, actor: args.actor }, { beforeId, limit: limit + 1 });
    const page = pageOf(rows, limit, beforeId !== undefined, (row) => String(row.id), (cursor, row) =>
      Object.assign(new SecurityEventEdge(), { cursor, node: toSecurityEvent(row) }),
    );
    return Object.assign(new SecurityEventConnection(), page);
  }
}

const toSecurityEvent = (row: SecurityEventRow) =>
  Object.assign(new SecurityEvent(), { ...row, id: String(row.id), action: row.action as SecurityAction });
