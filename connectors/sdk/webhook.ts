import { createHmac, timingSafeEqual } from "node:crypto";
import type { WebhookRequest } from "./types.js";

/** Signature helpers for inbound webhooks. None of them throws on bad input: they answer false. */

export function hmacSha256Hex(secret: string | Buffer, data: string | Buffer): string {
  return createHmac("sha256", secret).update(data).digest("hex");
}

/** Timing-safe comparison; false when the lengths differ. */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const x = typeof a === "string" ? Buffer.from(a, "utf8") : a;
  const y = typeof b === "string" ? Buffer.from(b, "utf8") : b;
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A header of an inbound request by name, whatever its case. */
export function header(request: WebhookRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  const direct = request.headers[lower];
  if (direct !== undefined) return direct;
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}

/** True when `signature` is `<prefix><hex HMAC-SHA256 of body>` (e.g. Jira's `sha256=<hex>`). */
export function verifyHmacSha256Hex(secret: string, signature: string | undefined, body: Buffer, prefix = ""): boolean {
  if (!secret || signature === undefined || !signature.startsWith(prefix)) return false;
  return safeEqual(signature.slice(prefix.length).toLowerCase(), hmacSha256Hex(secret, body));
}

function timestampedPayload(timestampSeconds: number, body: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestampSeconds}.`, "utf8"), typeof body === "string" ? Buffer.from(body, "utf8") : body]);
}

/**
 * The generic webhook's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, so a
 * captured request cannot be replayed outside the tolerance window.
 */
export function signTimestamped(secret: string, timestampSeconds: number, body: string | Buffer): string {
  return `t=${timestampSeconds},v1=${hmacSha256Hex(secret, timestampedPayload(timestampSeconds, body))}`;
}

/** True when `headerValue` is a valid `signTimestamped` signature of `body` within `toleranceSeconds` of `nowMs`. */
export function verifyTimestamped(
  secret: string,
  headerValue: string | undefined,
  body: Buffer,
  nowMs: number,
  toleranceSeconds = 300,
): boolean {
  if (!secret || !headerValue) return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of headerValue.split(",")) {
    const [name, value] = part.trim().split("=", 2);
    if (value === undefined) continue;
    if (name === "t" && /^\d+$/.test(value)) timestamp = Number(value);
    if (name === "v1") signatures.push(value.toLowerCase());
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = hmacSha256Hex(secret, timestampedPayload(timestamp, body));
  // Check every candidate so timing does not reveal which one matched.
  return signatures.map((signature) => safeEqual(signature, expected)).includes(true);
}
