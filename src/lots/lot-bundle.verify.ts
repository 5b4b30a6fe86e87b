import { readFile } from "node:fs/promises";
import path from "node:path";
import { contentHashOf, linkHashOf } from "../audit/audit-hash.js";
import { readBundleEntries, type SealedBundle } from "../audit/bundle.read.js";
import { signatureValid } from "../audit/hub-key.js";
import { recordHashOf, signedText, type SignatureRow } from "../signatures/signature.service.js";

/** A lot's record as exported: lot.json, CSV files, its audit records, a PDF; sealed like any bundle. */
export const LOT_BUNDLE_FORMAT = "plantgraph-lot-bundle/1";
export const LOT_BUNDLE_FILES = {
  record: "lot.json",
  genealogy: "genealogy.csv",
  quality: "quality-results.csv",
  audit: "audit.ndjson",
  auditCsv: "audit.csv",
  summary: "summary.pdf",
} as const;

export interface LotBundleReport {
  lotCode: string;
  lots: number;
  auditRecords: number;
  signatures: number;
  /** Signatures sealed by the hub whose record hash is not the exported record's: the lot changed after signing. */
  signaturesNoLongerMatching: number;
  /** Why the bundle's content cannot be trusted; empty: verified. */
  problems: string[];
}

/** What lot.json holds; the verifier reads only what it checks. */
export interface LotBundleRecord {
  /** The batch record as a signature covers it (signable-records.ts: lot). */
  record: Record<string, unknown> & { lot: { code: string } };
  recordHash: string;
  signatures: (Omit<SignatureRow, "signedAt"> & { signedAt: string })[];
  genealogy: { backward: unknown[]; forward: unknown[] };
}

/**
 * Checks a sealed lot bundle's content from its files: each audit record's content hash and
 * chain link (the records are a selection of the chain, so each is checked on its own), their
 * number against the manifest, the record hash, and each signature's seal by the hub's key.
 */
export async function verifyLotBundle({ dir, manifest, publicKeyPem }: SealedBundle): Promise<LotBundleReport> {
  const expected = manifest as unknown as { auditRecords: number; lots: number };
  const problems: string[] = [];
  const lotFile = JSON.parse(await readFile(path.join(dir, LOT_BUNDLE_FILES.record), "utf8")) as LotBundleRecord;

  let auditRecords = 0;
  let previousSeq = 0;
  for await (const row of readBundleEntries(path.join(dir, LOT_BUNDLE_FILES.audit))) {
    auditRecords += 1;
    if (contentHashOf(row.content) !== row.contentHash) problems.push(`audit record seq ${row.seq}: its content does not have its content hash`);
    else if (linkHashOf(row.prevHash, row.contentHash) !== row.hash) problems.push(`audit record seq ${row.seq}: its chain hash does not link its previous hash and content`);
    if (row.seq <= previousSeq) problems.push(`audit record seq ${row.seq}: out of chain order`);
    previousSeq = row.seq;
  }
  if (auditRecords !== expected.auditRecords) problems.push(`${auditRecords} audit records, the manifest says ${expected.auditRecords}`);

  const recordHash = recordHashOf({ content: lotFile.record, site: null });
  if (recordHash !== lotFile.recordHash) problems.push("lot.json: the record does not have its record hash");
  let noLongerMatching = 0;
  for (const signature of lotFile.signatures) {
    const sealed = signatureValid(publicKeyPem, signedText({ ...signature, signedAt: new Date(signature.signedAt) }), signature.hubSignature);
    if (!sealed) problems.push(`signature ${signature.id} (${signature.meaning} by ${signature.signerName}) is not sealed by this key`);
    else if (signature.recordHash !== recordHash) noLongerMatching += 1;
  }
  const lots = lotFile.genealogy.backward.length + lotFile.genealogy.forward.length - 1;
  if (lots !== expected.lots) problems.push(`${lots} lots in the genealogy, the manifest says ${expected.lots}`);
  return { lotCode: lotFile.record.lot.code, lots, auditRecords, signatures: lotFile.signatures.length, signaturesNoLongerMatching: noLongerMatching, problems };
}
