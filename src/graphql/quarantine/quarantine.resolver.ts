import { Args, Authorized, Ctx, Query, Resolver } from "type-graphql";
import { scopedSites } from "../../auth/identity.js";
import { pageQuarantine, quarantineCounts, type QuarantineRow } from "../../telemetry/quarantine.queries.js";
import type { QuarantineReason } from "../../telemetry/sample.js";
import type { GraphqlContext } from "../context.js";
import { pageOf } from "../relay/connection.js";
import { decodeIdCursor, pageSize } from "../relay/node.type.js";
import { QuarantineArgs } from "./quarantine.args.js";
import { QuarantineConnection, QuarantineCount, QuarantinedMessage, QuarantineEdge } from "./quarantine.type.js";

@Resolver()
export class QuarantineResolver {
  @Authorized("quarantine.read")
  @Query(() => QuarantineConnection, { description: "Refused messages of the sites you may see, newest first." })
  async quarantine(@Args(() => QuarantineArgs) args: QuarantineArgs, @Ctx() ctx: GraphqlContext): Promise<QuarantineConnection> {
    const limit = pageSize(args.first);
    const beforeId = decodeIdCursor(args.after);
    const { rows, totalCount } = await pageQuarantine(ctx.database.db, { reason: args.reason, topic: args.topic, sites: scopedSites(ctx.identity.scope) }, { beforeId, limit: limit + 1 });
    const page = pageOf(rows, limit, beforeId !== undefined, (row) => String(row.id), (cursor, row) =>
      Object.assign(new QuarantineEdge(), { cursor, node: toMessage(row) }),
    );
    return Object.assign(new QuarantineConnection(), { ...page, totalCount });
  }

  @Authorized("quarantine.read")
  @Query(() => [QuarantineCount], { description: "How many messages of your sites were refused, per reason." })
  async quarantineSummary(@Ctx() ctx: GraphqlContext): Promise<QuarantineCount[]> {
    return (await quarantineCounts(ctx.database.db, scopedSites(ctx.identity.scope))).map((c) => Object.assign(new QuarantineCount(), c));
  }
}

const toMessage = (row: QuarantineRow) =>
  Object.assign(new QuarantinedMessage(), { ...row, id: String(row.id), reason: row.reason as QuarantineReason, json: parseJson(row.payload) });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
