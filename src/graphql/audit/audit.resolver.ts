import path from "node:path";
import { Args, Authorized, Ctx, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { pageAuditEntries, type AuditEntryRow } from "../../audit/audit-entry.queries.js";
import { tailAuditEntries } from "../../audit/audit.tail.js";
import { bundleDirectoryName, ExportRejected } from "../../audit/bundle.writer.js";
import { exportTrail } from "../../audit/export.service.js";
import { linkAllPending } from "../../audit/chainer.js";
import { hubKeyFor } from "../../audit/hub-key.js";
import { verifyStoredTrail } from "../../audit/trail.verify.js";
import type { GraphqlContext } from "../context.js";
import { idConnection, type ConnectionOf } from "../relay/connection.js";
import { decodeIdCursor, pageSize } from "../relay/node.type.js";
import { userError } from "../user-error.type.js";
import { AuditAppendedArgs, AuditEntriesArgs, ExportAuditTrailArgs } from "./audit.args.js";
import {
  AuditEntry,
  AuditEntryConnection,
  AuditEntryEdge,
  AuditExport,
  AuditVerification,
  ExportAuditTrailPayload,
  toAuditEntry,
  toAuditVerification,
} from "./audit.type.js";

const FOLLOW_INTERVAL_MS = 1_000;

/** The audit trail is plant-wide: auditors and admins see all of it, nobody else any of it. */
@Resolver(() => AuditEntry)
export class AuditResolver {
  @Authorized("audit.read")
  @Query(() => AuditEntryConnection, { description: "The audit trail, newest first." })
  async auditEntries(@Args(() => AuditEntriesArgs) args: AuditEntriesArgs, @Ctx() ctx: GraphqlContext): Promise<ConnectionOf<AuditEntry>> {
    const limit = pageSize(args.first);
    const beforeId = decodeIdCursor(args.after);
    const f = args.filter ?? {};
    const filter = { entityType: f.entityType ?? undefined, entityId: f.entityId ?? undefined, actor: f.actor ?? undefined, action: f.action ?? undefined, from: f.from ?? undefined, to: f.to ?? undefined };
    const page = await pageAuditEntries(ctx.database.db, filter, { beforeId, limit: limit + 1 });
    return idConnection({ Edge: AuditEntryEdge, Connection: AuditEntryConnection }, page, limit, beforeId, (row) => row.id, toAuditEntry);
  }

  @Authorized("audit.read")
  @Query(() => AuditVerification, { description: "Recomputes the whole hash chain and the signed checkpoints (as plantgraph audit verify); long on a large trail." })
  async verifyAuditTrail(@Ctx() ctx: GraphqlContext): Promise<AuditVerification> {
    const key = await hubKeyFor(ctx.config);
    await linkAllPending(ctx.database.db);
    const report = await verifyStoredTrail(ctx.database.query, { checkpoints: { dir: ctx.config.audit.checkpointDir, publicKeyPem: key.publicKeyPem } });
    return toAuditVerification(report);
  }

  @Authorized("audit.export")
  @Mutation(() => ExportAuditTrailPayload, { description: "Writes the records of a period as a signed bundle into AUDIT_EXPORT_DIR on the hub and says where." })
  async exportAuditTrail(@Args(() => ExportAuditTrailArgs) args: ExportAuditTrailArgs, @Ctx() ctx: GraphqlContext): Promise<ExportAuditTrailPayload> {
    if (!(args.from < args.to)) return { errors: [userError(["to"], "must be after from")] };
    const out = path.resolve(ctx.config.audit.exportDir, bundleDirectoryName());
    try {
      const result = await exportTrail(ctx.database, {
        key: await hubKeyFor(ctx.config),
        from: args.from,
        to: args.to,
        out,
        checkpointDir: ctx.config.audit.checkpointDir,
        actor: ctx.identity.id,
        requestId: ctx.requestId,
      });
      const exported = Object.assign(new AuditExport(), { directory: out, records: result.manifest.records, manifestSha256: result.manifestSha256, verified: result.verification.ok });
      return { export: exported, errors: [] };
    } catch (error) {
      if (error instanceof ExportRejected) return { errors: [userError(["from"], error.message)] };
      throw error;
    }
  }

  @Authorized("audit.read")
  @Subscription(() => AuditEntry, {
    description: "Each audit record as it is committed, in chain order.",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, AuditAppendedArgs, GraphqlContext>) => {
      return tailAuditEntries(context.database, FOLLOW_INTERVAL_MS, (row) => args.entityType == null || row.entityType === args.entityType);
    },
  })
  auditAppended(@Root() row: AuditEntryRow, @Args(() => AuditAppendedArgs) _args: AuditAppendedArgs): AuditEntry {
    return toAuditEntry(row);
  }
}
