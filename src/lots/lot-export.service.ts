import path from "node:path";
import { recordAudit } from "../audit/audit.js";
import { linkAllPending } from "../audit/chainer.js";
import { exportLotBundle, type LotExportOptions, type LotExportResult } from "./lot-bundle.export.js";

/**
 * A lot record export as the CLI and GraphQL run it: what was appended is linked first, so the
 * lot's latest changes are in the bundle; the export itself is audited, with the manifest's hash.
 */
export async function exportLotRecord(options: LotExportOptions & { requestId?: string }): Promise<LotExportResult> {
  await linkAllPending(options.database.db);
  const result = await exportLotBundle(options);
  await recordAudit(options.database.db, {
    actor: options.createdBy,
    action: "lot.exported",
    entityType: "lot",
    entityId: options.lot.id,
    newValue: { code: options.lot.code, bundle: path.basename(result.dir), lots: result.lots, auditRecords: result.auditRecords, manifestSha256: result.manifestSha256 },
    requestId: options.requestId,
  });
  return result;
}
