import { hash } from "node:crypto";
import { canonicalJson } from "../db/canonical-json.js";

/**
 * What an audit entry's hash covers, and how entries link. The content hash is SHA-256 over the
 * canonical JSON of these fields (sorted keys, `at` as ISO 8601 with milliseconds); the link is
 * SHA-256 over the previous entry's hash and this content hash, as raw bytes. The database trigger
 * computes the link the same way (migration 0003), the verifier recomputes both here.
 */
export interface AuditContent {
  at: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  oldValue: Record<string, unknown> | null;
  newValue: Record<string, unknown> | null;
  reason: string | null;
  requestId: string | null;
}

/** The previous hash of the first entry. */
export const GENESIS_HASH = "0".repeat(64);

export function contentHashOf(content: AuditContent): string {
  return hash("sha256", canonicalJson(content), "hex");
}

export function linkHashOf(prevHash: string, contentHash: string): string {
  return hash("sha256", Buffer.from(prevHash + contentHash, "hex"), "hex");
}
