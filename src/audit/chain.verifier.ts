import { contentHashOf, GENESIS_HASH, linkHashOf, type AuditContent } from "./audit-hash.js";

/** One chained audit entry as stored, whatever it was read from (database or bundle). */
export interface ChainRow {
  id: number;
  seq: number;
  content: AuditContent;
  contentHash: string;
  prevHash: string;
  hash: string;
}

/** A signed statement that the chain's entry `seq` had `hash`; its signature is checked before. */
export interface TrustedCheckpoint {
  seq: number;
  hash: string;
  at: string;
}

export type TamperKind = "edited" | "deleted" | "inserted" | "reordered";

export interface ChainProblem {
  kind: TamperKind;
  /** The chain position of the first record concerned (for `deleted`: the first missing one). */
  seq: number;
  /** The row's id, when the record is there to point at. */
  id?: number;
  detail: string;
}

export interface ChainReport {
  ok: boolean;
  records: number;
  firstSeq?: number;
  lastSeq?: number;
  headHash: string;
  checkpointsMatched: number;
  problem?: ChainProblem;
}

export interface VerifyOptions {
  /** Where the rows start: the entry before the first (a bundle of a period starts mid-chain). */
  start?: { seq: number; hash: string };
  checkpoints?: readonly TrustedCheckpoint[];
  /** The last entry the source claims to have (the database's head): a shorter chain lost its tail. */
  expectedHead?: { seq: number; hash: string };
  onProgress?: (records: number) => void;
  progressEvery?: number;
}

/**
 * Recomputes every content hash and link in chain order and reports the first record that was
 * edited, deleted, inserted or reordered. One row of look-ahead tells these apart:
 * - edited: the content no longer matches its hash, or a record was re-hashed so that its
 *   successor no longer links to it (reported at the re-hashed record);
 * - deleted: a gap in seq, or a checkpoint or the head beyond the last record;
 * - inserted: the next record links to the one before this;
 * - reordered: the record's link points elsewhere and the chain does not continue from it.
 * Signed checkpoints catch a chain rewritten consistently up to them.
 */
export async function verifyChain(rows: AsyncIterable<ChainRow>, options: VerifyOptions = {}): Promise<ChainReport> {
  const checkpoints = new Map((options.checkpoints ?? []).map((c) => [c.seq, c]));
  const every = options.progressEvery ?? 100_000;
  let last = options.start ?? { seq: 0, hash: GENESIS_HASH };
  let beforeLast: { seq: number; hash: string } | undefined;
  let records = 0;
  let firstSeq: number | undefined;
  let matched = 0;
  let pending: ChainRow | undefined;

  const report = (problem?: ChainProblem): ChainReport => ({
    ok: problem === undefined,
    records,
    firstSeq,
    lastSeq: records > 0 ? last.seq : undefined,
    headHash: last.hash,
    checkpointsMatched: matched,
    problem,
  });

  const accept = (row: ChainRow): ChainProblem | undefined => {
    const checkpoint = checkpoints.get(row.seq);
    if (checkpoint) {
      if (checkpoint.hash !== row.hash) {
        return { kind: "edited", seq: row.seq, id: row.id, detail: `the chain up to seq ${row.seq} was rewritten: the checkpoint signed at ${checkpoint.at} has hash ${checkpoint.hash}, the record ${row.hash}` };
      }
      matched += 1;
    }
    beforeLast = last;
    last = { seq: row.seq, hash: row.hash };
    records += 1;
    firstSeq ??= row.seq;
    if (records % every === 0) options.onProgress?.(records);
    return undefined;
  };

  const check = (row: ChainRow, next: ChainRow | undefined): ChainProblem | undefined => {
    const contentOk = contentHashOf(row.content) === row.contentHash;
    const linkOk = linkHashOf(row.prevHash, row.contentHash) === row.hash;
    const follows = row.prevHash === last.hash;
    const at = { seq: row.seq, id: row.id };
    if (contentOk && linkOk && follows) {
      if (row.seq !== last.seq + 1) return { kind: "edited", ...at, detail: `the record follows seq ${last.seq} in the chain but carries seq ${row.seq}` };
      return accept(row);
    }
    const nextFollowsLast = next !== undefined && next.prevHash === last.hash && selfConsistent(next);
    if (nextFollowsLast) {
      if (!follows && contentOk && linkOk && row.prevHash === next.hash) {
        return { kind: "reordered", ...at, detail: `the record at seq ${row.seq} belongs after the record now at seq ${next.seq}` };
      }
      return { kind: "inserted", ...at, detail: `the record at seq ${row.seq} is not part of the chain: the next record links to seq ${last.seq}` };
    }
    if (!contentOk) return { kind: "edited", ...at, detail: `the content of the record at seq ${row.seq} does not match its hash` };
    if (!linkOk) return { kind: "edited", ...at, detail: `the hash of the record at seq ${row.seq} does not match its content and predecessor` };
    if (row.seq > last.seq + 1) {
      return { kind: "deleted", seq: last.seq + 1, detail: `records ${last.seq + 1}..${row.seq - 1} are missing` };
    }
    if (beforeLast && row.prevHash === beforeLast.hash) {
      return { kind: "inserted", seq: last.seq, detail: `the record at seq ${last.seq} is not part of the chain: the next record links to seq ${beforeLast.seq}` };
    }
    if (next !== undefined && next.prevHash !== row.hash) {
      return { kind: "reordered", ...at, detail: `the record at seq ${row.seq} does not follow seq ${last.seq}, nor does seq ${next.seq} follow it` };
    }
    return { kind: "edited", seq: last.seq, detail: `the record at seq ${last.seq} was changed and re-hashed: the record after it links to a different hash` };
  };

  for await (const row of rows) {
    if (pending) {
      const problem = check(pending, row);
      if (problem) return report(problem);
    }
    pending = row;
  }
  if (pending) {
    const problem = check(pending, undefined);
    if (problem) return report(problem);
  }
  const beyond = [...checkpoints.values(), ...(options.expectedHead ? [{ ...options.expectedHead, at: "the database's head" }] : [])]
    .filter((c) => c.seq > last.seq)
    .sort((a, b) => a.seq - b.seq)[0];
  if (beyond) return report({ kind: "deleted", seq: last.seq + 1, detail: `records ${last.seq + 1}..${beyond.seq} are missing (${beyond.at} reaches seq ${beyond.seq})` });
  const head = options.expectedHead;
  if (head && head.seq === last.seq && head.hash !== last.hash) {
    return report({ kind: "edited", seq: last.seq, detail: `the last record's hash ${last.hash} is not the head's ${head.hash}` });
  }
  return report();
}

function selfConsistent(row: ChainRow): boolean {
  return contentHashOf(row.content) === row.contentHash && linkHashOf(row.prevHash, row.contentHash) === row.hash;
}
