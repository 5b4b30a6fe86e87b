import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { and, asc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { apiKeys } from "../../schema/db/security.js";
import type { DbOrTx } from "../db/database.js";
import { AuthenticationError } from "./authentication.js";
import { accessRoles, allSites, type Identity, type SiteScope } from "./identity.js";
import { recordSecurityEvent } from "./security-events.js";

/**
 * API keys: `pgk_<prefix>_<secret>`. The prefix is public and finds the row; only the SHA-256 of
 * the secret is stored, so a database dump holds nothing that authenticates.
 */

export type ApiKeyRow = Omit<typeof apiKeys.$inferSelect, "secretHash">;

const KEY_FORMAT = /^pgk_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$/;
const PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const LAST_USED_RESOLUTION_MS = 60_000;
/** What the caller hears for every refused key; the reason goes to the security event only. */
const INVALID_KEY = "invalid API key";

export const apiKeySpec = z.object({
  name: z.string().trim().min(1, { message: "expected a name" }).max(128),
  role: z.enum(accessRoles, { message: `expected one of ${accessRoles.join(", ")}` }),
  /** null: every site. */
  sites: z
    .array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, { message: 'expected "enterprise/site"' }))
    .nullable()
    .transform((sites) => (sites ? [...new Set(sites)] : null)),
  expiresAt: z
    .date()
    .optional()
    .refine((at) => at === undefined || at.getTime() > Date.now(), { message: "expected a time in the future" }),
  createdBy: z.string().min(1),
});
export type ApiKeySpec = z.input<typeof apiKeySpec>;

const publicColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  role: apiKeys.role,
  sites: apiKeys.sites,
  createdBy: apiKeys.createdBy,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

/** Creates a key; `key` is the only copy of the secret there will ever be. Throws ZodError on bad input. */
export async function createApiKey(db: DbOrTx, spec: ApiKeySpec): Promise<{ key: string; row: ApiKeyRow }> {
  const { name, role, sites, expiresAt, createdBy } = apiKeySpec.parse(spec);
  const prefix = randomPrefix();
  const secret = randomBytes(32).toString("base64url");
  const row = await db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(apiKeys)
      .values({ name, prefix, secretHash: sha256Hex(secret), role, sites, createdBy, expiresAt: expiresAt ?? null })
      .returning(publicColumns);
    await recordSecurityEvent(tx, {
      action: "apikey.created",
      actor: createdBy,
      outcome: "success",
      resource: `key:${inserted!.id}`,
      detail: { name, prefix, role, sites, expiresAt: expiresAt?.toISOString() ?? null },
    });
    return inserted!;
  });
  return { key: `pgk_${prefix}_${secret}`, row };
}

/** Revokes the key; a key already revoked is returned as it is. Undefined when no key has this id. */
export async function revokeApiKey(db: DbOrTx, id: number, actor: string): Promise<ApiKeyRow | undefined> {
  return db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning(publicColumns);
    if (!revoked) return (await tx.select(publicColumns).from(apiKeys).where(eq(apiKeys.id, id)))[0];
    await recordSecurityEvent(tx, { action: "apikey.revoked", actor, outcome: "success", resource: `key:${id}`, detail: { name: revoked.name, prefix: revoked.prefix } });
    return revoked;
  });
}

export async function listApiKeys(db: DbOrTx): Promise<ApiKeyRow[]> {
  return db.select(publicColumns).from(apiKeys).orderBy(asc(apiKeys.id));
}

export async function getApiKey(db: DbOrTx, id: number): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select(publicColumns).from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

export async function hasActiveAdminKey(db: DbOrTx): Promise<boolean> {
  const found = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.role, "admin"), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`))))
    .limit(1);
  return found.length > 0;
}

/**
 * The identity of a presented key, or AuthenticationError("invalid API key") whatever the cause;
 * `reason` (malformed, unknown, secret_mismatch, revoked, expired) is for the security event.
 */
export async function verifyApiKey(db: DbOrTx, presented: string): Promise<Identity> {
  const parts = KEY_FORMAT.exec(presented);
  if (!parts) throw new AuthenticationError(INVALID_KEY, "malformed");
  const [, prefix, secret] = parts as unknown as [string, string, string];
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.prefix, prefix));
  if (!row) throw new AuthenticationError(INVALID_KEY, "unknown");
  if (!timingSafeEqual(Buffer.from(sha256Hex(secret), "hex"), Buffer.from(row.secretHash, "hex"))) {
    throw new AuthenticationError(INVALID_KEY, "secret_mismatch");
  }
  if (row.revokedAt) throw new AuthenticationError(INVALID_KEY, "revoked");
  const now = Date.now();
  if (row.expiresAt && row.expiresAt.getTime() <= now) throw new AuthenticationError(INVALID_KEY, "expired");
  // Minute resolution is enough to spot unused keys and spares a write per request.
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    await db.update(apiKeys).set({ lastUsedAt: new Date(now) }).where(eq(apiKeys.id, row.id));
  }
  return {
    kind: "api_key",
    id: `key:${row.id}`,
    name: row.name,
    role: row.role,
    scope: row.sites ? { all: false, sites: row.sites } : allSites,
  };
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Unbiased: 256 is not a multiple of 36, so bytes past the last whole multiple are skipped. */
function randomPrefix(): string {
  let prefix = "";
  while (prefix.length < 8) {
    for (const byte of randomBytes(16)) {
      if (byte < 252 && prefix.length < 8) prefix += PREFIX_ALPHABET[byte % 36];
    }
  }
  return prefix;
}

/**
 * An admin limited to some sites manages only keys limited to those sites: anything wider would
 * hand out more than the admin holds.
 */
export function keyWithinScope(scope: SiteScope, sites: readonly string[] | null): boolean {
  return scope.all || (sites !== null && sites.every((site) => scope.sites.includes(site)));
}
