import { createHash } from "node:crypto";
import { and, asc, eq } from "drizzle-orm";
import { electronicSignatures, type SignatureMeaning } from "../../schema/db/audit.js";
import { recordAudit } from "../audit/audit.js";
import { signatureValid, type HubKey } from "../audit/hub-key.js";
import { canonicalJson } from "../db/canonical-json.js";
import type { DbOrTx } from "../db/database.js";
import { signableRecords, type SignableRecord, type SignableRecordType } from "./signable-records.js";

/**
 * Electronic signatures (21 CFR Part 11): the signer, the meaning, the time and the hash of the
 * record as signed, sealed by the hub's Ed25519 key. The caller has re-authenticated the signer.
 */

export type SignatureRow = typeof electronicSignatures.$inferSelect;

export interface SignatureRequest {
  recordType: SignableRecordType;
  recordId: number;
  meaning: SignatureMeaning;
  reason?: string | null;
  /** The hash the signer reviewed: refused when the record has changed since. */
  expectedHash?: string | null;
  signer: { id: string; name: string };
  requestId?: string;
}

export type SignatureOutcome = { signature: SignatureRow } | { problem: "not_found" | "changed"; message: string };

export function recordHashOf(record: SignableRecord): string {
  return createHash("sha256").update(canonicalJson(record.content)).digest("hex");
}

export function readSignable(db: DbOrTx, type: SignableRecordType, id: number): Promise<SignableRecord | undefined> {
  return signableRecords[type].read(db, id);
}

export async function signRecord(db: DbOrTx, key: HubKey, request: SignatureRequest): Promise<SignatureOutcome> {
  return db.transaction(async (tx) => {
    const record = await readSignable(tx, request.recordType, request.recordId);
    if (!record) return { problem: "not_found", message: `no ${request.recordType} has id ${request.recordId}` };
    const recordHash = recordHashOf(record);
    if (request.expectedHash && request.expectedHash !== recordHash) {
      return { problem: "changed", message: `the ${request.recordType} changed since you reviewed it: its hash is now ${recordHash}` };
    }
    const manifestation = {
      recordType: request.recordType,
      recordId: String(request.recordId),
      recordHash,
      meaning: request.meaning,
      signerId: request.signer.id,
      signerName: request.signer.name,
      signedAt: new Date(),
      reason: request.reason ?? null,
    };
    const [signature] = await tx
      .insert(electronicSignatures)
      .values({ ...manifestation, hubSignature: key.sign(signedText(manifestation)), keyId: key.keyId })
      .returning();
    await recordAudit(tx, {
      actor: request.signer.id,
      action: "record.signed",
      entityType: request.recordType,
      entityId: request.recordId,
      newValue: { signatureId: signature!.id, meaning: request.meaning, recordHash, signerName: request.signer.name },
      reason: request.reason,
      requestId: request.requestId,
    });
    return { signature: signature! };
  });
}

export interface SignatureCheck {
  valid: boolean;
  /** Why not: the record changed or is gone, or the signature row was altered. */
  problem?: string;
}

/** Valid while the signature row is as the hub sealed it and the record still has the signed hash. */
export async function checkSignature(db: DbOrTx, publicKeyPem: string, row: SignatureRow): Promise<SignatureCheck> {
  if (!signatureValid(publicKeyPem, signedText(row), row.hubSignature)) return { valid: false, problem: "the signature record was altered: the hub's seal does not verify" };
  const type = row.recordType as SignableRecordType;
  const record = type in signableRecords ? await readSignable(db, type, Number(row.recordId)) : undefined;
  if (!record) return { valid: false, problem: `the signed ${row.recordType} no longer exists` };
  const now = recordHashOf(record);
  return now === row.recordHash ? { valid: true } : { valid: false, problem: `the ${row.recordType} changed after it was signed (hash now ${now})` };
}

export async function signaturesOf(db: DbOrTx, type: SignableRecordType, id: number): Promise<SignatureRow[]> {
  return db
    .select()
    .from(electronicSignatures)
    .where(and(eq(electronicSignatures.recordType, type), eq(electronicSignatures.recordId, String(id))))
    .orderBy(asc(electronicSignatures.id));
}

/** The signatures of a record, oldest first, each checked against the record as it is now. */
export async function checkedSignaturesOf(db: DbOrTx, publicKeyPem: string, type: SignableRecordType, id: number): Promise<{ row: SignatureRow; check: SignatureCheck }[]> {
  const rows = await signaturesOf(db, type, id);
  return Promise.all(rows.map(async (row) => ({ row, check: await checkSignature(db, publicKeyPem, row) })));
}

/** What the hub's seal covers. */
export function signedText(s: Pick<SignatureRow, "recordType" | "recordId" | "recordHash" | "meaning" | "signerId" | "signerName" | "signedAt" | "reason">): string {
  return canonicalJson({
    recordType: s.recordType,
    recordId: s.recordId,
    recordHash: s.recordHash,
    meaning: s.meaning,
    signerId: s.signerId,
    signerName: s.signerName,
    signedAt: s.signedAt.toISOString(),
    reason: s.reason,
  });
}
