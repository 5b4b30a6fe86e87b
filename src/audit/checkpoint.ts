import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { canonicalJson } from "../db/canonical-json.js";
import { signatureValid, type HubKey } from "./hub-key.js";
import type { TrustedCheckpoint } from "./chain.verifier.js";

/** The chain's head at a moment, signed with the hub's key. */
export interface Checkpoint {
  /** Which database's chain: checkpoints of several hubs may share a sink. */
  chainId: string;
  seq: number;
  hash: string;
  at: string;
  keyId: string;
  /** Base64 Ed25519 over canonicalJson({ at, chainId, hash, keyId, seq }). */
  signature: string;
}

export const PUBLIC_KEY_FILE = "hub-public-key.pem";
const CHECKPOINT_FILE = /^checkpoint-[0-9a-f-]{36}-\d{12}\.json$/;

export function signCheckpoint(key: HubKey, head: { chainId: string; seq: number; hash: string }, at: Date): Checkpoint {
  const unsigned = { chainId: head.chainId, seq: head.seq, hash: head.hash, at: at.toISOString(), keyId: key.keyId };
  return { ...unsigned, signature: key.sign(canonicalJson(unsigned)) };
}

export function checkpointValid(checkpoint: Checkpoint, publicKeyPem: string): boolean {
  const { signature, ...unsigned } = checkpoint;
  return signatureValid(publicKeyPem, canonicalJson(unsigned), signature);
}

/** Where checkpoints go: outside the database, so whoever can rewrite it cannot rewrite these. */
export interface CheckpointSink {
  readonly name: string;
  write(checkpoint: Checkpoint, publicKeyPem: string): Promise<void>;
}

/** One file per checkpoint, named by seq, and the public key beside them. Written atomically. */
export function directorySink(dir: string): CheckpointSink {
  return {
    name: dir,
    async write(checkpoint, publicKeyPem) {
      await mkdir(dir, { recursive: true });
      await writeAtomically(path.join(dir, PUBLIC_KEY_FILE), publicKeyPem);
      await writeAtomically(path.join(dir, checkpointFileName(checkpoint)), `${JSON.stringify(checkpoint, null, 2)}\n`);
    },
  };
}

/** POSTs `{ checkpoint, publicKey }` as JSON; anything but a 2xx is a failure to retry next time. */
export function httpSink(url: string, fetchImpl: typeof fetch = fetch): CheckpointSink {
  return {
    name: url,
    async write(checkpoint, publicKeyPem) {
      const response = await fetchImpl(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ checkpoint, publicKey: publicKeyPem }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`checkpoint sink ${url} answered ${response.status}`);
    },
  };
}

export const checkpointFileName = (checkpoint: { chainId: string; seq: number }) => `checkpoint-${checkpoint.chainId}-${String(checkpoint.seq).padStart(12, "0")}.json`;

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}

export interface CheckpointSet {
  /** Checkpoints of this chain whose signature the trusted key verifies. */
  trusted: (TrustedCheckpoint & { file: string })[];
  /** Files that are not checkpoints signed by that key: forged, damaged, or another hub's. */
  rejected: string[];
  /** Valid checkpoints of other chains (other databases sharing the sink). */
  otherChains: number;
}

/** Reads a checkpoint directory (a sink's, or a bundle's) and sorts this chain's trusted ones from the rest. */
export async function readCheckpoints(dir: string, publicKeyPem: string, chainId: string): Promise<CheckpointSet> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => CHECKPOINT_FILE.test(name)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { trusted: [], rejected: [], otherChains: 0 };
    throw error;
  }
  const set: CheckpointSet = { trusted: [], rejected: [], otherChains: 0 };
  for (const name of names) {
    const checkpoint = parseCheckpoint(await readFile(path.join(dir, name), "utf8"));
    if (!checkpoint || !checkpointValid(checkpoint, publicKeyPem)) set.rejected.push(name);
    else if (checkpoint.chainId !== chainId) set.otherChains += 1;
    else set.trusted.push({ seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at, file: name });
  }
  return set;
}

function parseCheckpoint(text: string): Checkpoint | undefined {
  try {
    const value = JSON.parse(text) as Partial<Checkpoint>;
    const ok = typeof value.chainId === "string" && typeof value.seq === "number" && typeof value.hash === "string" && typeof value.at === "string" && typeof value.keyId === "string" && typeof value.signature === "string";
    return ok ? (value as Checkpoint) : undefined;
  } catch {
    return undefined;
  }
}
