import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox, SecretBoxError, secretBoxFor } from "../../src/secrets/secret-box.js";

const key = () => randomBytes(32).toString("base64");
const K1 = key();
const K2 = key();
const AAD = "integration:jira-main";
const SECRETS = { apiToken: "s3cr3t-token-Ünïcødé", webhookSecret: "whsec_0123456789" };

/** Flips one bit of the n-th byte of one base64url part of `v1.<iv>.<tag>.<data>`. */
function tamper(ciphertext: string, part: 1 | 2 | 3, byte = 0): string {
  const parts = ciphertext.split(".");
  const bytes = Buffer.from(parts[part]!, "base64url");
  bytes[byte] = bytes[byte]! ^ 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

function errorOf(run: () => unknown): SecretBoxError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretBoxError);
    return error as SecretBoxError;
  }
  throw new Error("expected a SecretBoxError");
}

describe("secret box", () => {
  const box = createSecretBox(`k1:${K1}`);

  it("opens what it sealed, under the first key", () => {
    const sealed = box.seal(SECRETS, AAD);
    expect(sealed.keyId).toBe("k1");
    expect(box.activeKeyId).toBe("k1");
    expect(sealed.ciphertext).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(sealed.ciphertext).not.toContain("s3cr3t");
    expect(box.open(sealed.ciphertext, sealed.keyId, AAD)).toEqual(SECRETS);
    expect(box.open(box.seal({}, AAD).ciphertext, "k1", AAD)).toEqual({});
  });

  it("uses a fresh IV for every seal", () => {
    const ivs = new Set(Array.from({ length: 50 }, () => box.seal(SECRETS, AAD).ciphertext.split(".")[1]));
    expect(ivs.size).toBe(50);
    const [a, b] = [box.seal(SECRETS, AAD), box.seal(SECRETS, AAD)];
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it.each([
    ["the IV", 1, 0],
    ["the tag", 2, 15],
    ["the first byte of the data", 3, 0],
    ["the last byte of the data", 3, -1],
  ] as const)("refuses a ciphertext with one byte of %s changed", (_what, part, index) => {
    const { ciphertext } = box.seal(SECRETS, AAD);
    const length = Buffer.from(ciphertext.split(".")[part]!, "base64url").length;
    const error = errorOf(() => box.open(tamper(ciphertext, part, index < 0 ? length + index : index), "k1", AAD));
    expect(error.kind).toBe("unreadable");
    expect(error.message).toBe(
      `secrets of ${AAD} cannot be decrypted with key k1: it was altered, belongs to another record, or was sealed with a different key of that id`,
    );
    expect(error.message).not.toContain("s3cr3t");
  });

  it.each([
    ["another version", (c: string) => c.replace(/^v1\./, "v2.")],
    ["a missing part", (c: string) => c.split(".").slice(0, 3).join(".")],
    ["an extra part", (c: string) => `${c}.AAAA`],
    ["a short IV", (c: string) => c.replace(/^v1\.[^.]{4}/, "v1.")],
  ])("refuses an envelope with %s", (_what, mangle) => {
    const { ciphertext } = box.seal(SECRETS, AAD);
    expect(errorOf(() => box.open(mangle(ciphertext), "k1", AAD)).kind).toBe("unreadable");
  });

  it("refuses to open under another AAD (a ciphertext copied to another record)", () => {
    const { ciphertext } = box.seal(SECRETS, AAD);
    const error = errorOf(() => box.open(ciphertext, "k1", "integration:slack-main"));
    expect(error.message).toMatch(/^secrets of integration:slack-main cannot be decrypted with key k1/);
  });

  it("refuses an envelope relabelled as another key's, even one with the same key bytes", () => {
    const twin = createSecretBox(`k1:${K1},k9:${K1}`);
    const { ciphertext } = twin.seal(SECRETS, AAD);
    expect(errorOf(() => twin.open(ciphertext, "k9", AAD)).kind).toBe("unreadable");
  });

  it("names a key id that is not in the keyring", () => {
    const { ciphertext } = box.seal(SECRETS, AAD);
    const error = errorOf(() => createSecretBox(`k2:${K2}`).open(ciphertext, "k1", AAD));
    expect(error.kind).toBe("unknown_key");
    expect(error.message).toBe(`secrets of ${AAD} are encrypted with key k1 which is not in SECRETS_KEYS`);
  });

  it("refuses a key of the same id but other bytes", () => {
    const { ciphertext } = box.seal(SECRETS, AAD);
    expect(errorOf(() => createSecretBox(`k1:${K2}`).open(ciphertext, "k1", AAD)).kind).toBe("unreadable");
  });

  it("rotates: a box with a new first key opens the old key's envelopes and seals under the new key", () => {
    const old = box.seal(SECRETS, AAD);
    const rotating = createSecretBox(`k2:${K2},k1:${K1}`);
    expect(rotating.activeKeyId).toBe("k2");
    expect(rotating.keyIds).toEqual(["k2", "k1"]);
    expect(rotating.open(old.ciphertext, old.keyId, AAD)).toEqual(SECRETS);
    const resealed = rotating.seal(rotating.open(old.ciphertext, old.keyId, AAD), AAD);
    expect(resealed.keyId).toBe("k2");
    // Once every record is resealed, k1 may leave the keyring.
    expect(createSecretBox(`k2:${K2}`).open(resealed.ciphertext, resealed.keyId, AAD)).toEqual(SECRETS);
  });

  it("accepts URL-safe and unpadded base64 and spaces around entries", () => {
    const bytes = randomBytes(32);
    const urlSafe = createSecretBox(` a:${bytes.toString("base64url")} , b:${K1}`);
    const standard = createSecretBox(`a:${bytes.toString("base64")}`);
    const { ciphertext } = urlSafe.seal(SECRETS, AAD);
    expect(standard.open(ciphertext, "a", AAD)).toEqual(SECRETS);
  });
});

describe("secret box keyring", () => {
  const short = randomBytes(16).toString("base64");
  const long = randomBytes(33).toString("base64");

  it.each([
    ["empty", "", "SECRETS_KEYS: no keys; expected id:base64key pairs, e.g. k1:<32 bytes in base64>"],
    ["an entry without an id", `${K1}`, "SECRETS_KEYS: entry 1 is not id:base64key (ids are 1-64 letters, digits, '_' or '-')"],
    ["an empty entry", `k1:${K1},,k2:${K2}`, "SECRETS_KEYS: entry 2 is not id:base64key (ids are 1-64 letters, digits, '_' or '-')"],
    ["an id with a space", `k 1:${K1}`, "SECRETS_KEYS: entry 1 is not id:base64key (ids are 1-64 letters, digits, '_' or '-')"],
    ["a duplicate id", `k1:${K1},k1:${K2}`, "SECRETS_KEYS: key id k1 appears more than once"],
    ["a 16-byte key", `k1:${short}`, "SECRETS_KEYS: key k1 is 16 bytes after base64 decoding; expected 32 (openssl rand -base64 32)"],
    ["a 33-byte key", `k1:${K1},k2:${long}`, "SECRETS_KEYS: key k2 is 33 bytes after base64 decoding; expected 32 (openssl rand -base64 32)"],
    ["bad base64 characters", `k1:${K1.slice(0, 10)}!${K1.slice(11)}`, "SECRETS_KEYS: key k1 is not valid base64"],
    ["an impossible base64 length", `k1:${K1.replace(/=+$/, "")}AA`, "SECRETS_KEYS: key k1 is not valid base64"],
    ["padding in the middle", `k1:AAAA=AAA`, "SECRETS_KEYS: key k1 is not valid base64"],
  ])("refuses %s, naming SECRETS_KEYS and never the key", (_what, keyring, message) => {
    const error = errorOf(() => createSecretBox(keyring));
    expect(error.kind).toBe("keyring");
    expect(error.message).toBe(message);
    for (const material of [K1, K2, short, long]) expect(error.message).not.toContain(material.slice(0, 12));
  });
});

describe("secretBoxFor", () => {
  it("makes one box per configuration and none without SECRETS_KEYS", () => {
    const config = Object.freeze({ secretsKeys: `k1:${K1}` });
    expect(secretBoxFor(config)).toBe(secretBoxFor(config));
    expect(secretBoxFor(config)?.activeKeyId).toBe("k1");
    expect(secretBoxFor({ secretsKeys: undefined })).toBeUndefined();
  });
});
