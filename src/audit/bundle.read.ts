import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { SealedManifest } from "./bundle.writer.js";
import type { ChainRow } from "./chain.verifier.js";

/** What the verifiers of each bundle kind read, once bundle.verify.ts has checked the seal. */

/** A bundle whose seal holds: the manifest is signed by the key and every file has its hash. */
export interface SealedBundle {
  dir: string;
  manifest: SealedManifest;
  keyId: string;
  publicKeyPem: string;
}

/** The audit records of a bundle file (NDJSON, as bundleRecord writes them). */
export async function* readBundleEntries(file: string): AsyncGenerator<ChainRow> {
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === "") continue;
    const { id, seq, contentHash, prevHash, hash, ...content } = JSON.parse(line) as Record<string, unknown>;
    yield { id: Number(id), seq: Number(seq), contentHash: String(contentHash), prevHash: String(prevHash), hash: String(hash), content: content as unknown as ChainRow["content"] };
  }
}
