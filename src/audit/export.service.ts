import path from "node:path";
import type { Database } from "../db/database.js";
import { recordAudit } from "./audit.js";
import { exportAuditBundle, type ExportOptions, type ExportResult } from "./bundle.export.js";
import { linkAllPending } from "./chainer.js";

/**
 * An export as the CLI and GraphQL run it: what was appended is linked first, so the period is
 * complete; the export itself is audited, with the manifest's hash to find the bundle by.
 */
export async function exportTrail(
  database: Database,
  options: Omit<ExportOptions, "query" | "createdBy"> & { actor: string; requestId?: string },
): Promise<ExportResult> {
  await linkAllPending(database.db);
  const result = await exportAuditBundle({ ...options, query: database.query, createdBy: options.actor });
  await recordAudit(database.db, {
    actor: options.actor,
    action: "audit.exported",
    entityType: "audit_export",
    entityId: path.basename(result.dir),
    newValue: { from: options.from.toISOString(), to: options.to.toISOString(), records: result.manifest.records, manifestSha256: result.manifestSha256, verified: result.verification.ok },
    requestId: options.requestId,
  });
  return result;
}
