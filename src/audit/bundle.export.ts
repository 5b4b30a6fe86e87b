import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RawQuery } from "../db/database.js";
import { GENESIS_HASH } from "./audit-hash.js";
import { chainHead, hashAt, readChain, seqRangeOfPeriod } from "./audit.queries.js";
import { verifyChain, type ChainReport, type ChainRow } from "./chain.verifier.js";
import { PUBLIC_KEY_FILE, readCheckpoints } from "./checkpoint.js";
import { hashedFile, type WrittenFile } from "./hashed-file.js";
import type { HubKey } from "./hub-key.js";
import { renderSummaryPdf } from "./summary.pdf.js";

/**
 * An auditor's bundle of one period: entries.ndjson and entries.csv (the records, streamed to
 * disk), the signed checkpoints inside the period, the hub's public key, summary.pdf, and
 * manifest.json with every file's SHA-256, signed by the hub (manifest.sig). The chain is verified
 * while it is written; `plantgraph audit verify --bundle` checks it all again without a database.
 */

export const BUNDLE_FORMAT = "plantgraph-audit-bundle/1";
export const BUNDLE_FILES = { entries: "entries.ndjson", csv: "entries.csv", summary: "summary.pdf", manifest: "manifest.json", signature: "manifest.sig", checkpoints: "checkpoints" } as const;

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  period: { from: string; to: string };
  createdAt: string;
  createdBy: string;
  records: number;
  /** The chain position before the first record and its hash: where the bundle's chain starts. */
  start: { seq: number; hash: string };
  /** The last record's seq and hash. */
  head: { seq: number; hash: string };
  chainId: string;
  keyId: string;
  files: { name: string; sha256: string; bytes: number }[];
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

export class ExportRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportRejected";
  }
}

const CSV_COLUMNS = ["id", "seq", "at", "actor", "action", "entity_type", "entity_id", "old_value", "new_value", "reason", "request_id", "content_hash", "prev_hash", "hash"];

export async function exportAuditBundle(options: ExportOptions): Promise<ExportResult> {
  const { query, key, from, to, out } = options;
  if (!(from < to)) throw new ExportRejected(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  await prepareEmptyDirectory(out);

  const { chainId } = await chainHead(query);
  const range = await seqRangeOfPeriod(query, from, to);
  const startSeq = range?.afterSeq ?? 0;
  const start = { seq: startSeq, hash: startSeq === 0 ? GENESIS_HASH : ((await hashAt(query, startSeq)) ?? GENESIS_HASH) };
  const expected = range ? (range.toSeq ?? startSeq) - startSeq : 0;

  const entries = hashedFile(path.join(out, BUNDLE_FILES.entries));
  const csv = hashedFile(path.join(out, BUNDLE_FILES.csv));
  await csv.write(`${CSV_COLUMNS.join(",")}\r\n`);
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
      await csv.write(`${csvLine(row)}\r\n`);
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
  const files: { name: string; written: WrittenFile }[] = [
    { name: BUNDLE_FILES.entries, written: await entries.close() },
    { name: BUNDLE_FILES.csv, written: await csv.close() },
  ];

  const createdAt = new Date().toISOString();
  const head = last;
  await writeFile(path.join(out, PUBLIC_KEY_FILE), key.publicKeyPem);
  files.push({ name: PUBLIC_KEY_FILE, written: digest(key.publicKeyPem) });
  if (inside.length > 0) {
    await mkdir(path.join(out, BUNDLE_FILES.checkpoints));
    for (const { file: name } of inside) {
      await copyFile(path.join(options.checkpointDir!, name), path.join(out, BUNDLE_FILES.checkpoints, name));
      files.push({ name: `${BUNDLE_FILES.checkpoints}/${name}`, written: await digestFile(path.join(out, BUNDLE_FILES.checkpoints, name)) });
    }
  }
  const pdf = await renderSummaryPdf({
    from: from.toISOString(),
    to: to.toISOString(),
    createdAt,
    createdBy: options.createdBy,
    records,
    firstSeq,
    lastSeq: records > 0 ? last.seq : undefined,
    prevHash: start.hash,
    headHash: head.hash,
    chainId,
    keyId: key.keyId,
    checkpoints: verification.checkpointsMatched,
    verification: verification.ok ? "the chain verified: no record edited, deleted, inserted or reordered" : `FAILED: ${verification.problem!.kind} at seq ${verification.problem!.seq}: ${verification.problem!.detail}`,
    byAction,
    byActor,
  });
  await writeFile(path.join(out, BUNDLE_FILES.summary), pdf);
  files.push({ name: BUNDLE_FILES.summary, written: digest(pdf) });

  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    period: { from: from.toISOString(), to: to.toISOString() },
    createdAt,
    createdBy: options.createdBy,
    records,
    start,
    head,
    chainId,
    keyId: key.keyId,
    files: files.map(({ name, written }) => ({ name, ...written })),
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(path.join(out, BUNDLE_FILES.manifest), manifestText);
  await writeFile(path.join(out, BUNDLE_FILES.signature), `${key.sign(manifestText)}\n`);
  return { dir: out, manifest, manifestSha256: digest(manifestText).sha256, verification };
}

/** One line of entries.ndjson: the stored record with its chain fields. */
export function bundleRecord(row: ChainRow): Record<string, unknown> {
  return { id: row.id, seq: row.seq, ...row.content, contentHash: row.contentHash, prevHash: row.prevHash, hash: row.hash };
}

function csvLine(row: ChainRow): string {
  const c = row.content;
  const json = (value: unknown) => (value === null ? "" : JSON.stringify(value));
  return [row.id, row.seq, c.at, c.actor, c.action, c.entityType, c.entityId, json(c.oldValue), json(c.newValue), c.reason ?? "", c.requestId ?? "", row.contentHash, row.prevHash, row.hash]
    .map((cell) => csvCell(String(cell)))
    .join(",");
}

/** RFC 4180; a leading = + - @ is prefixed with ' so spreadsheets do not run it as a formula. */
function csvCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

async function prepareEmptyDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const present = await readdir(dir);
  if (present.length > 0) throw new ExportRejected(`${dir} is not empty (${present.length} entries): choose a new directory for the bundle`);
}

async function* emptyChain(): AsyncGenerator<ChainRow> {}

function digest(content: string | Uint8Array): WrittenFile {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  return { sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
}

async function digestFile(file: string): Promise<WrittenFile> {
  return digest(await readFile(file));
}
