import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import { access, link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The hub's Ed25519 signing key: it signs audit checkpoints, export manifests and electronic
 * signatures. Made once, on first use, as a PKCS#8 PEM file readable by the hub's user only; its
 * public key travels with everything it signs, so verification needs no database.
 */
export interface HubKey {
  /** SHA-256 (hex) of the public key's DER: names the key in what it signed. */
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** Base64 Ed25519 signature over the UTF-8 text. */
  sign(text: string): string;
}

const keys = new Map<string, Promise<HubKey>>();

/** The key of AUDIT_KEY_FILE, read (or made) once per process. */
export function hubKeyFor(config: { audit: { keyFile: string } }): Promise<HubKey> {
  const file = path.resolve(config.audit.keyFile);
  let key = keys.get(file);
  if (!key) {
    key = loadOrCreateHubKey(file);
    // A failure is not cached: the next caller tries again (and sees the error itself).
    key.catch(() => keys.delete(file));
    keys.set(file, key);
  }
  return key;
}

/** The public key of an existing key file; undefined when there is none (never makes one). */
export async function existingPublicKey(file: string): Promise<string | undefined> {
  try {
    await access(file);
  } catch {
    return undefined;
  }
  return (await loadOrCreateHubKey(file)).publicKeyPem;
}

export async function loadOrCreateHubKey(file: string): Promise<HubKey> {
  const pem = await readOrCreate(file);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new Error(`${file} is not a PEM private key; move it away to let the hub make a new one`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`${file} holds a ${privateKey.asymmetricKeyType} key; expected Ed25519`);
  const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  return {
    keyId: keyIdOf(publicKeyPem),
    publicKeyPem,
    sign: (text) => sign(null, Buffer.from(text, "utf8"), privateKey).toString("base64"),
  };
}

/**
 * Two processes starting at once: each writes a complete key to a file of its own, and linking it
 * to the final name (which fails if the name exists) lets one win; the other reads the winner's.
 */
async function readOrCreate(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const candidate = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(candidate, pem, { mode: 0o600, flag: "wx" });
  try {
    await link(candidate, file);
    return pem;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return readFile(file, "utf8");
  } finally {
    await unlink(candidate).catch(() => undefined);
  }
}

export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex");
}

/** False for a wrong signature, a malformed one, or a key that is not a public key. */
export function signatureValid(publicKeyPem: string, text: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(text, "utf8"), createPublicKey(publicKeyPem), Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
