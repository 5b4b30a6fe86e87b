import type { RawQuery } from "../db/database.js";
import { chainHead, countUnchained, readChain } from "./audit.queries.js";
import { readCheckpoints } from "./checkpoint.js";
import { verifyChain, type ChainReport } from "./chain.verifier.js";

export interface TrailReport extends ChainReport {
  /** Entries the head says there are: the total the progress counts towards. */
  expected: number;
  /** Entries appended but not linked yet. */
  pending: number;
  /** Entries written before the chain existed, not covered by it. */
  legacy: number;
  /** Checkpoint files whose signature the hub's key does not verify. */
  checkpointsRejected: string[];
  /** Signed checkpoints of other chains in the directory: another database, or a replaced chain. */
  checkpointsOfOtherChains: number;
}

export interface TrailVerifyOptions {
  /** The hub's public key and the directory its checkpoints were exported to. */
  checkpoints?: { dir: string; publicKeyPem: string };
  onProgress?: (records: number, expected: number) => void;
}

/** Recomputes the whole chain stored in the database against its head and the signed checkpoints. */
export async function verifyStoredTrail(query: RawQuery, options: TrailVerifyOptions = {}): Promise<TrailReport> {
  const head = await chainHead(query);
  const { trusted, rejected, otherChains } = options.checkpoints
    ? await readCheckpoints(options.checkpoints.dir, options.checkpoints.publicKeyPem, head.chainId)
    : { trusted: [], rejected: [], otherChains: 0 };
  const report = await verifyChain(readChain(query), {
    checkpoints: trusted,
    expectedHead: head,
    onProgress: (records) => options.onProgress?.(records, head.seq),
  });
  return { ...report, expected: head.seq, ...(await countUnchained(query)), checkpointsRejected: rejected, checkpointsOfOtherChains: otherChains };
}
