import { readFile } from "node:fs/promises";
import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import type { LotBundleReport } from "../lots/lot-bundle.verify.js";
import type { BundleReport } from "./bundle.verify.js";
import type { ChainProblem } from "./chain.verifier.js";
import { linkAllPending } from "./chainer.js";
import { existingPublicKey } from "./hub-key.js";
import { verifyStoredTrail, type TrailReport } from "./trail.verify.js";

/** What the `plantgraph audit` commands print: verdicts on stdout, progress on stderr. */

export function progressLine(what: string): (records: number, expected: number) => void {
  return (records, expected) => {
    const share = expected > 0 ? ` (${Math.min(100, Math.floor((records / expected) * 100))}%)` : "";
    process.stderr.write(`${what} ${records} of ${expected} records${share}\n`);
  };
}

export function describeTrail(report: TrailReport): string {
  const lines = [
    report.ok ? `audit trail verified: ${report.records} records, seq ${report.firstSeq ?? "-"}..${report.lastSeq ?? "-"}, head ${report.headHash}` : describeProblem(report.problem!),
    `signed checkpoints matched: ${report.checkpointsMatched}`,
  ];
  if (report.checkpointsRejected.length > 0) lines.push(`checkpoint files NOT signed by the hub's key (ignored): ${report.checkpointsRejected.join(", ")}`);
  if (report.checkpointsOfOtherChains > 0) {
    lines.push(`${report.checkpointsOfOtherChains} checkpoints in the directory belong to other chains (another database, or this one's chain replaced)`);
  }
  if (report.pending > 0) lines.push(`${report.pending} records appended meanwhile are not linked yet (the next verify covers them)`);
  if (report.legacy > 0) lines.push(`${report.legacy} records were written before the chain existed and are not covered by it`);
  return lines.join("\n");
}

export function describeBundle(report: BundleReport): string {
  if (report.bundleProblem) return `bundle NOT verified: ${report.bundleProblem}${report.keyId ? ` (key ${report.keyId})` : ""}`;
  if (report.lotRecord) return describeLotBundle(report.lotRecord, report.keyId!);
  const chain = report.chain!;
  const lines = [
    chain.ok ? `bundle verified: ${chain.records} records, seq ${chain.firstSeq ?? "-"}..${chain.lastSeq ?? "-"}, head ${chain.headHash}` : describeProblem(chain.problem!),
    `signed by key ${report.keyId}; signed checkpoints matched: ${chain.checkpointsMatched}`,
  ];
  if (report.checkpointsRejected.length > 0) lines.push(`checkpoint files NOT signed by this key: ${report.checkpointsRejected.join(", ")}`);
  return lines.join("\n");
}

function describeLotBundle(lot: LotBundleReport, keyId: string): string {
  if (lot.problems.length > 0) return [`lot bundle NOT verified (lot ${lot.lotCode}, key ${keyId}):`, ...lot.problems.map((p) => `  ${p}`)].join("\n");
  const lines = [
    `lot bundle verified: lot ${lot.lotCode}, ${lot.lots} lots in its genealogy, ${lot.auditRecords} audit records each matching its hash and chain link`,
    `signed by key ${keyId}; ${lot.signatures} electronic signatures sealed by it`,
  ];
  if (lot.signaturesNoLongerMatching > 0) lines.push(`${lot.signaturesNoLongerMatching} of them were made on an earlier state of the lot's record: no longer valid for it`);
  return lines.join("\n");
}

function describeProblem(problem: ChainProblem): string {
  return `audit trail NOT verified: record ${problem.kind} at seq ${problem.seq}${problem.id !== undefined ? ` (id ${problem.id})` : ""}: ${problem.detail}`;
}

/**
 * Verifies the database's chain against the checkpoints signed by the key given, or by the hub's
 * own key file. Without either, checkpoints cannot be trusted and only the chain is checked.
 */
export async function verifyDatabaseTrail(config: Config, database: Database, publicKeyFile: string | undefined, checkpointDir: string | undefined): Promise<TrailReport> {
  const publicKeyPem = publicKeyFile ? await readFile(publicKeyFile, "utf8") : await existingPublicKey(config.audit.keyFile);
  if (!publicKeyPem) process.stderr.write(`no hub key at ${config.audit.keyFile} and no --public-key: checkpoints are not checked\n`);
  const checkpoints = publicKeyPem ? { dir: checkpointDir ?? config.audit.checkpointDir, publicKeyPem } : undefined;
  await linkAllPending(database.db);
  return verifyStoredTrail(database.query, { checkpoints, onProgress: progressLine("verified") });
}
