import { and, eq, sql } from "drizzle-orm";
import { Arg, Args, ArgsType, Authorized, Ctx, Field, ID, Mutation, Query, Resolver } from "type-graphql";
import { eventActions } from "../../../schema/db/events.js";
import { recordAudit } from "../../audit/audit.js";
import { scopedSites } from "../../auth/identity.js";
import { actorOf, type GraphqlContext } from "../context.js";
import { integrationVisible } from "../integration/integration.resolver.js";
import { idConnection, PageArgs, type ConnectionOf } from "../relay/connection.js";
import { decodeIdCursor, pageSize, parseDatabaseId } from "../relay/node.type.js";
import { userError } from "../user-error.type.js";
import { eventActionById, pageDeadLetters } from "./event-action.queries.js";
import { EventAction, EventActionConnection, EventActionEdge, EventActionPayload, toEventAction } from "./event-action.type.js";

const NOT_FOUND = "no action has this id";

@ArgsType()
export class DeadLettersArgs extends PageArgs {
  @Field(() => ID, { nullable: true })
  integrationId?: string;
}

/** Actions are as visible as their integration. */
@Resolver(() => EventAction)
export class EventActionResolver {
  @Authorized("integration.read")
  @Query(() => EventActionConnection, { description: "Actions that failed for good (dead letters) of the integrations you may see, newest first." })
  async deadLetters(@Args(() => DeadLettersArgs) args: DeadLettersArgs, @Ctx() ctx: GraphqlContext): Promise<ConnectionOf<EventAction>> {
    const limit = pageSize(args.first);
    const beforeId = decodeIdCursor(args.after);
    const integrationId = args.integrationId == null ? undefined : (parseDatabaseId(args.integrationId) ?? 0);
    const page = await pageDeadLetters(ctx.database.db, { integrationId, sites: scopedSites(ctx.identity.scope) }, { beforeId, limit: limit + 1 });
    return idConnection({ Edge: EventActionEdge, Connection: EventActionConnection }, page, limit, beforeId, (row) => row.action.id, toEventAction);
  }

  @Authorized("integration.manage")
  @Mutation(() => EventActionPayload, { description: "Runs a dead action again from its first attempt (audited as action.replayed)." })
  async replayAction(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphqlContext): Promise<EventActionPayload> {
    const numeric = parseDatabaseId(id);
    const current = numeric === undefined ? undefined : await eventActionById(ctx.database.db, numeric);
    if (!current || !integrationVisible(ctx.identity.scope, current.integration.site)) return { errors: [userError(["id"], NOT_FOUND)] };
    const { actor, requestId } = actorOf(ctx);
    const replayed = await ctx.database.db.transaction(async (tx) => {
      const [row] = await tx
        .update(eventActions)
        .set({ status: "pending", attempts: 0, updatedAt: sql`now()` })
        .where(and(eq(eventActions.id, current.action.id), eq(eventActions.status, "dead")))
        .returning();
      if (!row) return undefined;
      const { status, attempts, errorKind, lastError } = current.action;
      await recordAudit(tx, {
        actor,
        action: "action.replayed",
        entityType: "event_action",
        entityId: row.id,
        oldValue: { status, attempts, errorKind, lastError },
        newValue: { status: row.status, attempts: row.attempts },
        requestId,
      });
      return row;
    });
    if (!replayed) return { errors: [userError(["id"], `only a dead action can be replayed; this one is ${current.action.status}`)] };
    // Without queues the action stays pending until a worker's reconcile picks it up.
    await ctx.queues?.requeue([{ item: { name: "action.run", data: { eventActionId: replayed.id } }, connectorKind: current.integration.kind }]);
    return { action: toEventAction((await eventActionById(ctx.database.db, replayed.id))!), errors: [] };
  }
}
