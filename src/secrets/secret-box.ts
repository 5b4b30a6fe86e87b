import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Config } from "../config.js";

/**
 * AES-256-GCM envelopes for secrets at rest. The keyring is SECRETS_KEYS, "id:base64key,...":
 * the first key seals, every key opens, so a new key goes first, `plantgraph secrets rotate`
 * re-seals, and then the old key can go. Messages name keys by id and never carry key material or
 * plaintext.
 */

export interface Sealed {
  /** `v1.<iv>.<tag>.<data>`, each part base64url. */
  ciphertext: string;
  keyId: string;
}

export interface SecretBox {
  /** The key that seals: the first one of SECRETS_KEYS. */
  readonly activeKeyId: string;
  readonly keyIds: readonly string[];
  /** `aad` names the record the secrets belong to; opening under any other name fails. */
  seal(secrets: Record<string, string>, aad: string): Sealed;
  open(ciphertext: string, keyId: string, aad: string): Record<string, string>;
}

export class SecretBoxError extends Error {
  constructor(
    message: string,
    readonly kind: "keyring" | "unknown_key" | "unreadable",
  ) {
    super(message);
    this.name = "SecretBoxError";
  }
}

const VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export function createSecretBox(keyringText: string): SecretBox {
  const keys = parseKeyring(keyringText);
  const [activeKeyId, activeKey] = keys.entries().next().value!;

  return {
    activeKeyId,
    keyIds: [...keys.keys()],
    seal(secrets, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", activeKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(additionalData(activeKeyId, aad));
      const data = Buffer.concat([cipher.update(JSON.stringify(secrets), "utf8"), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), data].map((part) => part.toString("base64url"));
      return { ciphertext: [VERSION, ...parts].join("."), keyId: activeKeyId };
    },
    open(ciphertext, keyId, aad) {
      const key = keys.get(keyId);
      if (!key) throw new SecretBoxError(`secrets of ${aad} are encrypted with key ${keyId} which is not in SECRETS_KEYS`, "unknown_key");
      const unreadable = (why: string) =>
        new SecretBoxError(`secrets of ${aad} cannot be decrypted with key ${keyId}: ${why}`, "unreadable");
      const [version, iv, tag, data, ...rest] = ciphertext.split(".");
      if (version !== VERSION || data === undefined || rest.length > 0) throw unreadable(`not a ${VERSION} envelope`);
      const ivBytes = Buffer.from(iv!, "base64url");
      const tagBytes = Buffer.from(tag!, "base64url");
      if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw unreadable("malformed envelope");
      let plaintext: string;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, ivBytes, { authTagLength: TAG_BYTES });
        decipher.setAAD(additionalData(keyId, aad));
        decipher.setAuthTag(tagBytes);
        plaintext = Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
      } catch {
        throw unreadable("it was altered, belongs to another record, or was sealed with a different key of that id");
      }
      // JSON.parse quotes its input in its errors; only a verdict may leave here.
      let secrets: unknown;
      try {
        secrets = JSON.parse(plaintext);
      } catch {
        secrets = undefined;
      }
      if (!isStringRecord(secrets)) throw unreadable("the content is not a map of strings");
      return secrets;
    },
  };
}

const boxes = new WeakMap<object, SecretBox | undefined>();

/** The box of this configuration, made once; undefined when SECRETS_KEYS is not set. */
export function secretBoxFor(config: Pick<Config, "secretsKeys">): SecretBox | undefined {
  if (!boxes.has(config)) boxes.set(config, config.secretsKeys ? createSecretBox(config.secretsKeys) : undefined);
  return boxes.get(config);
}

/** The key id and version are bound too, so an envelope cannot be relabelled as another key's. */
function additionalData(keyId: string, aad: string): Buffer {
  return Buffer.from(`${VERSION}\n${keyId}\n${aad}`, "utf8");
}

function parseKeyring(text: string): Map<string, Buffer> {
  const fail = (message: string) => new SecretBoxError(`SECRETS_KEYS: ${message}`, "keyring");
  const keys = new Map<string, Buffer>();
  const entries = text.split(",").map((entry) => entry.trim());
  if (entries.every((entry) => entry === "")) throw fail("no keys; expected id:base64key pairs, e.g. k1:<32 bytes in base64>");
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    const id = colon < 0 ? entry : entry.slice(0, colon);
    if (colon < 0 || !KEY_ID.test(id)) {
      throw fail(`entry ${index + 1} is not id:base64key (ids are 1-64 letters, digits, '_' or '-')`);
    }
    if (keys.has(id)) throw fail(`key id ${id} appears more than once`);
    const key = decodeBase64(entry.slice(colon + 1));
    if (!key) throw fail(`key ${id} is not valid base64`);
    if (key.length !== KEY_BYTES) {
      throw fail(`key ${id} is ${key.length} bytes after base64 decoding; expected ${KEY_BYTES} (openssl rand -base64 32)`);
    }
    keys.set(id, key);
  });
  return keys;
}

/** Standard or URL-safe base64, padded or not; undefined for anything Buffer would silently skip. */
function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const normalized = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Buffer.from(normalized, "base64");
  return bytes.toString("base64").replace(/=+$/, "") === normalized ? bytes : undefined;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
}
