import { createHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { PUBLIC_KEY_FILE } from "./checkpoint.js";
import { hashedFile, type WrittenFile } from "./hashed-file.js";
import type { HubKey } from "./hub-key.js";

/**
 * Writes an evidence bundle of any kind: files streamed and hashed on the way, the hub's public
 * key, then manifest.json (what the bundle is, every file's SHA-256) signed by the hub into
 * manifest.sig. bundle.verify.ts checks the seal of every kind the same way.
 */

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_SIGNATURE_FILE = "manifest.sig";

export interface ManifestFile {
  name: string;
  sha256: string;
  bytes: number;
}

/** What every manifest carries, whatever the bundle's kind. */
export interface SealedManifest {
  format: string;
  createdAt: string;
  createdBy: string;
  keyId: string;
  files: ManifestFile[];
}

export class ExportRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportRejected";
  }
}

export async function openBundle(dir: string, key: HubKey) {
  await prepareEmptyDirectory(dir);
  const files: ManifestFile[] = [];
  const listed = (name: string, written: WrittenFile) => files.push({ name, ...written });
  const add = async (name: string, content: string | Uint8Array) => {
    await writeFile(path.join(dir, name), content);
    listed(name, digest(content));
  };
  await add(PUBLIC_KEY_FILE, key.publicKeyPem);
  return {
    dir,
    /** A file written line by line; listed in the manifest once closed. */
    stream(name: string) {
      const file = hashedFile(path.join(dir, name));
      return {
        write: file.write,
        async close(): Promise<void> {
          listed(name, await file.close());
        },
      };
    },
    add,
    async copy(from: string, name: string): Promise<void> {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await copyFile(from, path.join(dir, name));
      listed(name, digest(await readFile(path.join(dir, name))));
    },
    /** Writes the manifest (the kind's fields, then keyId and files) and the hub's signature of it. */
    async seal<M extends Omit<SealedManifest, "keyId" | "files">>(fields: M): Promise<{ manifest: M & SealedManifest; manifestSha256: string }> {
      const manifest = { ...fields, keyId: key.keyId, files };
      const text = `${JSON.stringify(manifest, null, 2)}\n`;
      await writeFile(path.join(dir, MANIFEST_FILE), text);
      await writeFile(path.join(dir, MANIFEST_SIGNATURE_FILE), `${key.sign(text)}\n`);
      return { manifest, manifestSha256: digest(text).sha256 };
    },
  };
}

export type BundleWriter = Awaited<ReturnType<typeof openBundle>>;

/** A new bundle's directory name under an export directory: when, then a few random characters. */
export function bundleDirectoryName(prefix?: string): string {
  const name = `${new Date().toISOString().replace(/[:.]/g, "-")}-${randomBytes(3).toString("hex")}`;
  return prefix ? `${prefix.replace(/[^A-Za-z0-9_-]+/g, "_")}-${name}` : name;
}

/** One CSV line, RFC 4180. */
export function csvLine(cells: readonly unknown[]): string {
  return `${cells.map((cell) => csvCell(cell == null ? "" : String(cell))).join(",")}\r\n`;
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

function digest(content: string | Uint8Array): WrittenFile {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  return { sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
}
