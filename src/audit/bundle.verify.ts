import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { LOT_BUNDLE_FORMAT, verifyLotBundle, type LotBundleReport } from "../lots/lot-bundle.verify.js";
import { BUNDLE_FILES, BUNDLE_FORMAT, type BundleManifest } from "./bundle.export.js";
import { readBundleEntries, type SealedBundle } from "./bundle.read.js";
import { MANIFEST_FILE, MANIFEST_SIGNATURE_FILE, type SealedManifest } from "./bundle.writer.js";
import { verifyChain, type ChainReport } from "./chain.verifier.js";
import { PUBLIC_KEY_FILE, readCheckpoints } from "./checkpoint.js";
import { keyIdOf, signatureValid } from "./hub-key.js";

export interface BundleReport {
  ok: boolean;
  /** The key the manifest is signed with; compare it with the hub's when no key was given. */
  keyId?: string;
  format?: string;
  /** Why the bundle itself cannot be trusted (signature, file hashes), before any record is read. */
  bundleProblem?: string;
  /** An audit trail bundle: its chain. */
  chain?: ChainReport;
  checkpointsRejected: string[];
  /** A lot record bundle: its records and signatures. */
  lotRecord?: LotBundleReport;
}

type Progress = (records: number, expected: number) => void;

/**
 * Verifies an exported bundle from its files alone: the manifest's signature (with the given
 * public key, or the bundle's own when none is given), every file's SHA-256, then what the bundle
 * holds: an audit trail bundle's chain from the manifest's start to its head against the signed
 * checkpoints inside; a lot record bundle's audit records and signatures.
 */
export async function verifyBundle(dir: string, options: { publicKeyPem?: string; onProgress?: Progress } = {}): Promise<BundleReport> {
  const sealed = await checkSeal(dir, options.publicKeyPem);
  if (!("manifest" in sealed)) return sealed;
  const { manifest, keyId } = sealed;
  if (manifest.format === BUNDLE_FORMAT) return { ...(await verifyTrailBundle(sealed, options.onProgress)), keyId, format: manifest.format };
  if (manifest.format === LOT_BUNDLE_FORMAT) {
    const lotRecord = await verifyLotBundle(sealed);
    return { ok: lotRecord.problems.length === 0, keyId, format: manifest.format, lotRecord, checkpointsRejected: [] };
  }
  return refuse(`unknown bundle format ${JSON.stringify(manifest.format)}`, keyId);
}

const refuse = (bundleProblem: string, keyId?: string): BundleReport => ({ ok: false, keyId, bundleProblem, checkpointsRejected: [] });

async function checkSeal(dir: string, givenKeyPem: string | undefined): Promise<SealedBundle | BundleReport> {
  let manifestText: string;
  let signature: string;
  let publicKeyPem: string;
  try {
    manifestText = await readFile(path.join(dir, MANIFEST_FILE), "utf8");
    signature = (await readFile(path.join(dir, MANIFEST_SIGNATURE_FILE), "utf8")).trim();
    publicKeyPem = givenKeyPem ?? (await readFile(path.join(dir, PUBLIC_KEY_FILE), "utf8"));
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
  const manifest = JSON.parse(manifestText) as SealedManifest;
  if (manifest.keyId !== keyId) return refuse(`the manifest names key ${manifest.keyId}, it verifies with ${keyId}`, keyId);
  for (const file of manifest.files) {
    const actual = await sha256OfFile(path.join(dir, file.name)).catch(() => undefined);
    if (actual !== file.sha256) return refuse(`${file.name} ${actual ? "was changed" : "is missing"}: its SHA-256 is not the one the manifest signs`, keyId);
  }
  return { dir, manifest, keyId, publicKeyPem };
}

async function verifyTrailBundle({ dir, manifest: sealed, publicKeyPem }: SealedBundle, onProgress?: Progress): Promise<Omit<BundleReport, "keyId">> {
  const manifest = sealed as BundleManifest;
  const { trusted, rejected } = await readCheckpoints(path.join(dir, BUNDLE_FILES.checkpoints), publicKeyPem, manifest.chainId);
  const chain = await verifyChain(readBundleEntries(path.join(dir, BUNDLE_FILES.entries)), {
    start: manifest.start,
    checkpoints: trusted,
    expectedHead: manifest.head,
    onProgress: (n) => onProgress?.(n, manifest.records),
  });
  const complete = chain.ok && chain.records === manifest.records && chain.headHash === manifest.head.hash;
  return { ok: complete && rejected.length === 0, chain, checkpointsRejected: rejected };
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
