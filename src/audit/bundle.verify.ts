import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { BUNDLE_FILES, BUNDLE_FORMAT, type BundleManifest } from "./bundle.export.js";
import { verifyChain, type ChainReport, type ChainRow } from "./chain.verifier.js";
import { PUBLIC_KEY_FILE, readCheckpoints } from "./checkpoint.js";
import { keyIdOf, signatureValid } from "./hub-key.js";

export interface BundleReport {
  ok: boolean;
  /** The key the manifest is signed with; compare it with the hub's when no key was given. */
  keyId?: string;
  /** Why the bundle itself cannot be trusted (signature, file hashes), before any record is read. */
  bundleProblem?: string;
  chain?: ChainReport;
  checkpointsRejected: string[];
}

/**
 * Verifies an exported bundle from its files alone: the manifest's signature (with the given
 * public key, or the bundle's own when none is given), every file's SHA-256, then the chain of
 * entries.ndjson from the manifest's start to its head, against the signed checkpoints inside.
 */
export async function verifyBundle(dir: string, options: { publicKeyPem?: string; onProgress?: (records: number, expected: number) => void } = {}): Promise<BundleReport> {
  const refuse = (bundleProblem: string, keyId?: string): BundleReport => ({ ok: false, keyId, bundleProblem, checkpointsRejected: [] });
  let manifestText: string;
  let signature: string;
  let publicKeyPem: string;
  try {
    manifestText = await readFile(path.join(dir, BUNDLE_FILES.manifest), "utf8");
    signature = (await readFile(path.join(dir, BUNDLE_FILES.signature), "utf8")).trim();
    publicKeyPem = options.publicKeyPem ?? (await readFile(path.join(dir, PUBLIC_KEY_FILE), "utf8"));
  } catch (error) {
    return refuse(`not a complete bundle: ${(error as Error).message}`);
  }
  let keyId: string;
  try {
    keyId = keyIdOf(publicKeyPem);
  } catch {
    return refuse("the public key is not a PEM public key");
  }
  if (!signatureValid(publicKeyPem, manifestText, signature)) return refuse("manifest.sig is not a signature of manifest.json by this key", keyId);
  const manifest = JSON.parse(manifestText) as BundleManifest;
  if (manifest.format !== BUNDLE_FORMAT) return refuse(`unknown bundle format ${JSON.stringify(manifest.format)}`, keyId);
  if (manifest.keyId !== keyId) return refuse(`the manifest names key ${manifest.keyId}, it verifies with ${keyId}`, keyId);
  for (const file of manifest.files) {
    const actual = await sha256OfFile(path.join(dir, file.name)).catch(() => undefined);
    if (actual !== file.sha256) return refuse(`${file.name} ${actual ? "was changed" : "is missing"}: its SHA-256 is not the one the manifest signs`, keyId);
  }

  const { trusted, rejected } = await readCheckpoints(path.join(dir, BUNDLE_FILES.checkpoints), publicKeyPem, manifest.chainId);
  const chain = await verifyChain(readBundleEntries(path.join(dir, BUNDLE_FILES.entries)), {
    start: manifest.start,
    checkpoints: trusted,
    expectedHead: manifest.head,
    onProgress: (n) => options.onProgress?.(n, manifest.records),
  });
  const complete = chain.ok && chain.records === manifest.records && chain.headHash === manifest.head.hash;
  return { ok: complete && rejected.length === 0, keyId, chain, checkpointsRejected: rejected };
}

async function* readBundleEntries(file: string): AsyncGenerator<ChainRow> {
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === "") continue;
    const { id, seq, contentHash, prevHash, hash, ...content } = JSON.parse(line) as Record<string, unknown>;
    yield { id: Number(id), seq: Number(seq), contentHash: String(contentHash), prevHash: String(prevHash), hash: String(hash), content: content as unknown as ChainRow["content"] };
  }
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
