import path from "node:path";
import type { RawQuery } from "../db/database.js";
import { GENESIS_HASH } from "./audit-hash.js";
import { chainHead, hashAt, readChain, seqRangeOfPeriod } from "./audit.queries.js";
import { verifyChain, type ChainReport, type ChainRow } from "./chain.verifier.js";
import { openBundle, csvLine, ExportRejected, type SealedManifest } from "./bundle.writer.js";
import { readCheckpoints } from "./checkpoint.js";
import type { HubKey } from "./hub-key.js";
import { countPairs, HOW_TO_VERIFY, renderSummaryPdf } from "./summary.pdf.js";

/**
 * An auditor's bundle of one period: entries.ndjson and entries.csv (the records, streamed to
 * disk), the signed checkpoints inside the period, the hub's public key, summary.pdf, and
 * manifest.json with every file's SHA-256, signed by the hub (manifest.sig). The chain is verified
 * while it is written; `plantgraph audit verify --bundle` checks it all again without a database.
 */

export const BUNDLE_FORMAT = "plantgraph-audit-bundle/1";
export const BUNDLE_FILES = { entries: "entries.ndjson", csv: "entries.csv", summary: "summary.pdf", checkpoints: "checkpoints" } as const;

export interface BundleManifest extends SealedManifest {
  format: typeof BUNDLE_FORMAT;
  period: { from: string; to: string };
  records: number;
  /** The chain position before the first record and its hash: where the bundle's chain starts. */
  start: { seq: number; hash: string };
  /** The last record's seq and hash. */
  head: { seq: number; hash: string };
  chainId: string;
}

export interface ExportOptions {
  query: RawQuery;
  key: HubKey;
  from: Date;
  to: Date;
  /** A directory that does not exist yet or is empty. */
  out: string;
  createdBy: string;
  /** The checkpoint sink's directory: those inside the period go into the bundle. */
  checkpointDir?: string;
  onProgress?: (records: number, expected: number) => void;
}

export interface ExportResult {
  dir: string;
  manifest: BundleManifest;
  manifestSha256: string;
  verification: ChainReport;
}

const TOP_ACTORS = 25;
export const AUDIT_CSV_COLUMNS = ["id", "seq", "at", "actor", "action", "entity_type", "entity_id", "old_value", "new_value", "reason", "request_id", "content_hash", "prev_hash", "hash"];

export async function exportAuditBundle(options: ExportOptions): Promise<ExportResult> {
  const { query, key, from, to, out } = options;
  if (!(from < to)) throw new ExportRejected(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  const bundle = await openBundle(out, key);

  const { chainId } = await chainHead(query);
  const range = await seqRangeOfPeriod(query, from, to);
  const startSeq = range?.afterSeq ?? 0;
  const start = { seq: startSeq, hash: startSeq === 0 ? GENESIS_HASH : ((await hashAt(query, startSeq)) ?? GENESIS_HASH) };
  const expected = range ? (range.toSeq ?? startSeq) - startSeq : 0;

  const entries = bundle.stream(BUNDLE_FILES.entries);
  const csv = bundle.stream(BUNDLE_FILES.csv);
  await csv.write(csvLine(AUDIT_CSV_COLUMNS));
  const byAction = new Map<string, number>();
  const byActor = new Map<string, number>();
  const rows = range ? readChain(query, range) : emptyChain();
  let records = 0;
  let firstSeq: number | undefined;
  let last = { seq: startSeq, hash: start.hash };

  async function* written(): AsyncGenerator<ChainRow> {
    for await (const row of rows) {
      records += 1;
      firstSeq ??= row.seq;
      last = { seq: row.seq, hash: row.hash };
      await entries.write(`${JSON.stringify(bundleRecord(row))}\n`);
      await csv.write(auditCsvLine(row));
      byAction.set(row.content.action, (byAction.get(row.content.action) ?? 0) + 1);
      byActor.set(row.content.actor, (byActor.get(row.content.actor) ?? 0) + 1);
      yield row;
    }
  }

  const trusted = options.checkpointDir ? (await readCheckpoints(options.checkpointDir, key.publicKeyPem, chainId)).trusted : [];
  const inside = range ? trusted.filter((c) => c.seq > startSeq && c.seq <= (range.toSeq ?? startSeq)) : [];
  // A chain that does not verify is still exported whole: the auditor needs to see what is there,
  // and the summary says where it broke. The verifier stops at the first problem, so it reads
  // through a view that does not close the rows; what it left is written after it.
  const all = written();
  const unclosed: AsyncIterable<ChainRow> = { [Symbol.asyncIterator]: () => ({ next: () => all.next() }) };
  const verification = await verifyChain(unclosed, { start, checkpoints: inside, onProgress: (n) => options.onProgress?.(n, expected) });
  for await (const _ of all) {
    // written by the generator
  }
  await entries.close();
  await csv.close();

  const createdAt = new Date().toISOString();
  const head = last;
  for (const { file: name } of inside) await bundle.copy(path.join(options.checkpointDir!, name), `${BUNDLE_FILES.checkpoints}/${name}`);
  const pdf = await renderSummaryPdf({
    title: "Audit trail export",
    createdAt,
    facts: [
      ["Period (UTC, end excluded)", `${from.toISOString()} to ${to.toISOString()}`],
      ["Records", records === 0 ? "none" : `${records} (seq ${firstSeq} to ${last.seq})`],
      ["Verification", verification.ok ? "the chain verified: no record edited, deleted, inserted or reordered" : `FAILED: ${verification.problem!.kind} at seq ${verification.problem!.seq}: ${verification.problem!.detail}`],
      ["Signed checkpoints inside", String(verification.checkpointsMatched)],
      ["Exported", `${createdAt} by ${options.createdBy}`],
    ],
    sections: [
      { heading: "Chain", fixed: [`previous hash  ${start.hash}`, `head hash      ${head.hash}`, `chain id       ${chainId}`, `hub key id     ${key.keyId}`] },
      { heading: "Records by action", pairs: countPairs(byAction) },
      { heading: `Records by actor${byActor.size > TOP_ACTORS ? ` (the ${TOP_ACTORS} most active of ${byActor.size})` : ""}`, pairs: countPairs(byActor, TOP_ACTORS) },
    ],
    footer: HOW_TO_VERIFY,
  });
  await bundle.add(BUNDLE_FILES.summary, pdf);

  const { manifest, manifestSha256 } = await bundle.seal({
    format: BUNDLE_FORMAT,
    period: { from: from.toISOString(), to: to.toISOString() },
    createdAt,
    createdBy: options.createdBy,
    records,
    start,
    head,
    chainId,
  } as const);
  return { dir: out, manifest, manifestSha256, verification };
}

/** One line of entries.ndjson: the stored record with its chain fields. */
export function bundleRecord(row: ChainRow): Record<string, unknown> {
  return { id: row.id, seq: row.seq, ...row.content, contentHash: row.contentHash, prevHash: row.prevHash, hash: row.hash };
}

/** One audit record as a line of AUDIT_CSV_COLUMNS. */
export function auditCsvLine(row: ChainRow): string {
  const c = row.content;
  const json = (value: unknown) => (value === null ? "" : JSON.stringify(value));
  return csvLine([row.id, row.seq, c.at, c.actor, c.action, c.entityType, c.entityId, json(c.oldValue), json(c.newValue), c.reason, c.requestId, row.contentHash, row.prevHash, row.hash]);
}

async function* emptyChain(): AsyncGenerator<ChainRow> {}
