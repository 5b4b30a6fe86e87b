import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import { integrations } from "../../schema/db/security.js";
import { recordAudit } from "../audit/audit.js";
import { recordSecurityEvent } from "../auth/security-events.js";
import type { DbOrTx } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { SecretBoxError, type SecretBox } from "../secrets/secret-box.js";

/**
 * Integrations: the records that hold a connector's settings. `config` may be shown; the secrets
 * are sealed with AAD `integration:<name>` and only `readSecrets` (for workers) opens them.
 */

export type IntegrationRow = typeof integrations.$inferSelect;

/** Who changes what, for the security events: an identity id ("user:…", "key:…") or "cli". */
export interface Actor {
  actor: string;
  requestId?: string;
}

const jsonObject = z.record(z.string(), z.unknown(), { message: "expected a JSON object" });
/** Names are shown (secretKeys); values never leave the box, and no message here quotes them. */
const SECRET_NAME = "secret names are 1-64 letters, digits, '_', '.' or '-', starting with a letter";
const secretMap = z.record(
  z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/),
  z.string({ message: "expected a string value" }).min(1, { message: "expected a non-empty value" }).max(16_384, { message: "expected at most 16384 characters" }),
  { error: (issue) => (issue.code === "invalid_key" ? SECRET_NAME : "expected an object of string values") },
);

export const integrationSpec = z.object({
  kind: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, { message: "expected a connector kind: lower-case letters, digits, '_' or '-'" }),
  name: z.string().trim().min(1, { message: "expected a name" }).max(128),
  site: z
    .string()
    .regex(/^[^/\s]+\/[^/\s]+$/, { message: 'expected "enterprise/site"' })
    .nullish()
    .transform((site) => site ?? null),
  config: jsonObject.default({}),
  secrets: secretMap.default({}),
});
export type IntegrationSpec = z.input<typeof integrationSpec>;

export const integrationChange = z.object({
  config: jsonObject.optional(),
  secrets: secretMap.optional(),
});
export type IntegrationChange = z.input<typeof integrationChange>;

export const secretsAad = (name: string) => `integration:${name}`;

/** The key id of an integration stored without secrets (the built-in board): nothing to open. */
export const NO_SECRETS_KEY_ID = "none";

/** Seals the secrets; an integration without any needs no keyring (the embedded demo has none). */
function sealSecrets(box: SecretBox | undefined, secrets: Record<string, string>, name: string): { ciphertext: string; keyId: string } {
  if (Object.keys(secrets).length === 0 && !box) return { ciphertext: "", keyId: NO_SECRETS_KEY_ID };
  if (!box) throw new SecretBoxError("SECRETS_KEYS is not configured: secrets cannot be stored", "keyring");
  return box.seal(secrets, secretsAad(name));
}

/** For workers only: the plaintext secrets of a row. */
export function openSecrets(box: SecretBox | undefined, row: Pick<IntegrationRow, "name" | "secretsCiphertext" | "secretsKeyId">): Record<string, string> {
  if (row.secretsKeyId === NO_SECRETS_KEY_ID) return {};
  if (!box) throw new SecretBoxError("SECRETS_KEYS is not configured: stored secrets cannot be read", "keyring");
  return box.open(row.secretsCiphertext, row.secretsKeyId, secretsAad(row.name));
}

/** Throws ZodError on bad input; the caller checks that the name is free. */
export async function createIntegration(db: DbOrTx, box: SecretBox | undefined, spec: IntegrationSpec, by: Actor): Promise<IntegrationRow> {
  const { kind, name, site, config, secrets } = integrationSpec.parse(spec);
  const sealed = sealSecrets(box, secrets, name);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(integrations)
      .values({ kind, name, site, config, secretsCiphertext: sealed.ciphertext, secretsKeyId: sealed.keyId })
      .returning();
    await recordAudit(tx, { actor: by.actor, action: "integration.created", entityType: "integration", entityId: row!.id, newValue: auditedIntegration(row!), requestId: by.requestId });
    await recordSecretsSet(tx, row!, Object.keys(secrets), by);
    return row!;
  });
}

/**
 * Replaces the config and/or the secrets (whole, sealed under the active key). `box` is needed
 * only for new secrets. Undefined when no integration has this id.
 */
export async function updateIntegration(
  db: DbOrTx,
  box: SecretBox | undefined,
  id: number,
  change: IntegrationChange,
  by: Actor,
): Promise<IntegrationRow | undefined> {
  const { config, secrets } = integrationChange.parse(change);
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(integrations).where(eq(integrations.id, id)).for("update");
    if (!current) return undefined;
    const sealed = secrets && sealSecrets(box, secrets, current.name);
    const [row] = await tx
      .update(integrations)
      .set({
        ...(config ? { config } : {}),
        ...(sealed ? { secretsCiphertext: sealed.ciphertext, secretsKeyId: sealed.keyId } : {}),
        updatedAt: sql`now()`,
        version: sql`${integrations.version} + 1`,
      })
      .where(eq(integrations.id, id))
      .returning();
    await recordAudit(tx, { actor: by.actor, action: "integration.updated", entityType: "integration", entityId: id, oldValue: auditedIntegration(current), newValue: auditedIntegration(row!), requestId: by.requestId });
    if (secrets) await recordSecretsSet(tx, row!, Object.keys(secrets), by);
    return row;
  });
}

export async function deleteIntegration(db: DbOrTx, id: number, by: Actor): Promise<IntegrationRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.delete(integrations).where(eq(integrations.id, id)).returning();
    if (row) await recordAudit(tx, { actor: by.actor, action: "integration.deleted", entityType: "integration", entityId: id, oldValue: auditedIntegration(row), requestId: by.requestId });
    return row;
  });
}

/** What the trail keeps of an integration: never its secrets, only which key seals them. */
function auditedIntegration(row: IntegrationRow): Record<string, unknown> {
  return { kind: row.kind, name: row.name, site: row.site, config: row.config, secretsKeyId: row.secretsKeyId, version: row.version };
}

export async function getIntegration(db: DbOrTx, id: number): Promise<IntegrationRow | undefined> {
  const [row] = await db.select().from(integrations).where(eq(integrations.id, id));
  return row;
}

export async function integrationByName(db: DbOrTx, name: string): Promise<IntegrationRow | undefined> {
  const [row] = await db.select().from(integrations).where(eq(integrations.name, name));
  return row;
}

/** `sites` undefined: every integration; otherwise those of these sites (never the site-less ones). */
export async function listIntegrations(db: DbOrTx, sites?: readonly string[]): Promise<IntegrationRow[]> {
  const where = sites === undefined ? undefined : sites.length === 0 ? sql`false` : inArray(integrations.site, [...sites]);
  return db.select().from(integrations).where(where).orderBy(asc(integrations.name));
}

/** For workers only: the plaintext secrets. Never return these over GraphQL or put them in job data. */
export async function readSecrets(db: DbOrTx, box: SecretBox, id: number): Promise<Record<string, string> | undefined> {
  const row = await getIntegration(db, id);
  return row && openSecrets(box, row);
}

/** The names of the stored secrets, sorted; the values are dropped at once. */
export function secretNames(box: SecretBox | undefined, row: Pick<IntegrationRow, "name" | "secretsCiphertext" | "secretsKeyId">): string[] {
  return Object.keys(openSecrets(box, row)).sort();
}

export interface RotationResult {
  activeKeyId: string;
  /** Rows re-sealed under the active key, by the key they were under before. */
  rotated: Record<string, number>;
  rotatedTotal: number;
  /** Rows that were under the active key already. */
  alreadyCurrent: number;
}

const PROGRESS_EVERY_ROWS = 100;

/**
 * Re-seals every row not under the active key, in one transaction: a row that cannot be opened
 * (its key is missing from SECRETS_KEYS) aborts the rotation and leaves every row as it was.
 */
export async function rotateSecrets(db: DbOrTx, box: SecretBox, by: Actor & { log: Logger }): Promise<RotationResult> {
  const { activeKeyId } = box;
  const log = by.log.child({ component: "secrets-rotation" });
  try {
    return await rotateInOneTransaction(db, box, by, log);
  } catch (error) {
    if (error instanceof SecretBoxError) {
      await recordSecurityEvent(db, { action: "secrets.rotated", actor: by.actor, outcome: "failure", resource: "integration", detail: { activeKeyId, reason: error.message }, requestId: by.requestId });
    }
    throw error;
  }
}

async function rotateInOneTransaction(db: DbOrTx, box: SecretBox, by: Actor, log: Logger): Promise<RotationResult> {
  const { activeKeyId } = box;
  return db.transaction(async (tx) => {
    const stale = await tx
      .select()
      .from(integrations)
      .where(and(ne(integrations.secretsKeyId, activeKeyId), ne(integrations.secretsKeyId, NO_SECRETS_KEY_ID)))
      .orderBy(asc(integrations.id))
      .for("update");
    const [{ current } = { current: 0 }] = await tx
      .select({ current: sql<number>`count(*)::int` })
      .from(integrations)
      .where(eq(integrations.secretsKeyId, activeKeyId));
    log.info({ activeKeyId, toRotate: stale.length, alreadyCurrent: current }, "rotating integration secrets");
    const rotated: Record<string, number> = {};
    let done = 0;
    for (const row of stale) {
      const aad = secretsAad(row.name);
      const sealed = box.seal(box.open(row.secretsCiphertext, row.secretsKeyId, aad), aad);
      await tx
        .update(integrations)
        .set({ secretsCiphertext: sealed.ciphertext, secretsKeyId: sealed.keyId, version: sql`${integrations.version} + 1` })
        .where(eq(integrations.id, row.id));
      rotated[row.secretsKeyId] = (rotated[row.secretsKeyId] ?? 0) + 1;
      done++;
      if (done % PROGRESS_EVERY_ROWS === 0 || done === stale.length) {
        log.info({ done, of: stale.length }, "rotating integration secrets: progress");
      }
    }
    const result = { activeKeyId, rotated, rotatedTotal: done, alreadyCurrent: current };
    await recordSecurityEvent(tx, {
      action: "secrets.rotated",
      actor: by.actor,
      outcome: "success",
      resource: "integration",
      detail: { ...result },
      requestId: by.requestId,
    });
    return result;
  });
}

function recordSecretsSet(tx: DbOrTx, row: IntegrationRow, names: string[], by: Actor): Promise<void> {
  return recordSecurityEvent(tx, {
    action: "integration.secrets_set",
    actor: by.actor,
    outcome: "success",
    resource: `integration:${row.id}`,
    detail: { name: row.name, kind: row.kind, secretKeys: names.sort(), keyId: row.secretsKeyId },
    requestId: by.requestId,
  });
}
