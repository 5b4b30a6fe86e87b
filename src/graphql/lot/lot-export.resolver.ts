import path from "node:path";
import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from "type-graphql";
import { bundleDirectoryName } from "../../audit/bundle.writer.js";
import { hubKeyFor } from "../../audit/hub-key.js";
import { scopedSites } from "../../auth/identity.js";
import { exportLotRecord } from "../../lots/lot-export.service.js";
import type { GraphqlContext } from "../context.js";
import { userError } from "../user-error.type.js";
import { findVisibleLot } from "./lot.resolver.js";
import { ExportLotRecordPayload, LotExport } from "./lot.type.js";

@Resolver()
export class LotExportResolver {
  @Authorized("audit.export")
  @Mutation(() => ExportLotRecordPayload, {
    description: "Writes a lot's record (genealogy both ways, parameters, quality, events and tasks, operators, signatures, its audit records) as a signed bundle into AUDIT_EXPORT_DIR on the hub and says where.",
  })
  async exportLotRecord(@Arg("lotId", () => ID) lotId: string, @Ctx() ctx: GraphqlContext): Promise<ExportLotRecordPayload> {
    const lot = await findVisibleLot(ctx, lotId);
    if (!lot) return { errors: [userError(["lotId"], "no lot has this id")] };
    const result = await exportLotRecord({
      database: ctx.database,
      key: await hubKeyFor(ctx.config),
      lot,
      out: path.resolve(ctx.config.audit.exportDir, bundleDirectoryName(`lot-${lot.code}`)),
      createdBy: ctx.identity.id,
      sites: scopedSites(ctx.identity.scope),
      requestId: ctx.requestId,
    });
    return { export: Object.assign(new LotExport(), { directory: result.dir, lots: result.lots, auditRecords: result.auditRecords, manifestSha256: result.manifestSha256 }), errors: [] };
  }
}
