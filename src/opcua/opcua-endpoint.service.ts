import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { opcuaEndpoints } from "../../schema/db/opcua.js";
import { recordAudit } from "../audit/audit.js";
import { recordSecurityEvent } from "../auth/security-events.js";
import type { DbOrTx } from "../db/database.js";
import { NO_SECRETS_KEY_ID, type Actor } from "../integrations/integration.service.js";
import { SecretBoxError, type SecretBox } from "../secrets/secret-box.js";
import type { EndpointIdentity, EndpointSettings } from "./opcua.connection.js";
import { endpointSecrets, endpointSpec, missingSecrets, type EndpointSecrets, type EndpointSpec, type EndpointSpecInput } from "./opcua.rules.js";

/**
 * OPC UA endpoints: the settings may be shown; the password or X.509 key pair are sealed with AAD
 * `opcua-endpoint:<name>` under SECRETS_KEYS and only the ingest process opens them.
 */

export type EndpointRow = typeof opcuaEndpoints.$inferSelect;

const secretsAad = (name: string) => `opcua-endpoint:${name}`;

/** What is wrong with a spec and its secrets, as field paths and messages; empty when fine. */
export type EndpointProblem = { path: (string | number)[]; message: string };

export class EndpointRejected extends Error {
  constructor(readonly problems: EndpointProblem[]) {
    super(problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("; "));
    this.name = "EndpointRejected";
  }
}

/** `storedSecretNames` undefined: secrets may be missing (a plant file sets none; GraphQL adds them later). */
function parse(input: EndpointSpecInput, secrets: unknown, storedSecretNames: readonly string[] | undefined): { spec: EndpointSpec; secrets: EndpointSecrets | undefined } {
  const spec = endpointSpec.safeParse(input);
  const parsedSecrets = secrets === undefined || secrets === null ? undefined : endpointSecrets.safeParse(secrets);
  const problems: EndpointProblem[] = [
    ...(spec.error?.issues ?? []).map((i) => ({ path: i.path.map((p) => (typeof p === "number" ? p : String(p))), message: i.message })),
    ...(parsedSecrets?.error?.issues ?? []).map((i) => ({ path: ["secrets", ...i.path.map(String)], message: i.message })),
  ];
  if (spec.success && (parsedSecrets === undefined || parsedSecrets.success) && (parsedSecrets || storedSecretNames)) {
    const names = parsedSecrets ? Object.keys(parsedSecrets.data) : (storedSecretNames ?? []);
    const missing = missingSecrets(spec.data.identity, names);
    if (missing.length > 0) problems.push({ path: ["secrets"], message: `the ${spec.data.identity} identity needs the secrets ${missing.join(", ")}` });
  }
  if (problems.length > 0) throw new EndpointRejected(problems);
  return { spec: spec.data!, secrets: parsedSecrets?.data };
}

function seal(box: SecretBox | undefined, secrets: EndpointSecrets, name: string): { secretsCiphertext: string; secretsKeyId: string } {
  if (Object.keys(secrets).length === 0 && !box) return { secretsCiphertext: "", secretsKeyId: NO_SECRETS_KEY_ID };
  if (!box) throw new SecretBoxError("SECRETS_KEYS is not configured: secrets cannot be stored", "keyring");
  const sealed = box.seal(secrets as Record<string, string>, secretsAad(name));
  return { secretsCiphertext: sealed.ciphertext, secretsKeyId: sealed.keyId };
}

function openEndpointSecrets(box: SecretBox | undefined, row: Pick<EndpointRow, "name" | "secretsCiphertext" | "secretsKeyId">): EndpointSecrets {
  if (row.secretsKeyId === NO_SECRETS_KEY_ID) return {};
  if (!box) throw new SecretBoxError("SECRETS_KEYS is not configured: stored secrets cannot be read", "keyring");
  return box.open(row.secretsCiphertext, row.secretsKeyId, secretsAad(row.name));
}

/** The names of the stored secrets; the values are dropped at once. */
export function endpointSecretNames(box: SecretBox | undefined, row: Pick<EndpointRow, "name" | "secretsCiphertext" | "secretsKeyId">): string[] {
  return Object.keys(openEndpointSecrets(box, row)).sort();
}

/** For the ingest process only: everything a session needs, secrets opened. */
export function endpointSettings(box: SecretBox | undefined, row: EndpointRow): EndpointSettings {
  const secrets = openEndpointSecrets(box, row);
  const missing = missingSecrets(row.identity, Object.keys(secrets));
  if (missing.length > 0) throw new Error(`the ${row.identity} identity of ${row.name} needs the secrets ${missing.join(", ")}: set them with updateOpcuaEndpoint`);
  const identity: EndpointIdentity =
    row.identity === "username"
      ? { kind: "username", username: row.username ?? "", password: secrets.password ?? "" }
      : row.identity === "x509"
        ? { kind: "x509", certificate: secrets.certificate ?? "", privateKey: secrets.privateKey ?? "" }
        : { kind: "anonymous" };
  return { name: row.name, url: row.url, securityMode: row.securityMode, securityPolicy: row.securityPolicy, identity };
}

/**
 * Throws EndpointRejected on bad input or SecretBoxError without a keyring; the caller checks that
 * the name is free. `secrets` undefined: none yet (a plant file), set later with updateEndpoint.
 */
export async function createEndpoint(db: DbOrTx, box: SecretBox | undefined, input: EndpointSpecInput, secrets: unknown, by: Actor): Promise<EndpointRow> {
  const parsed = parse(input, secrets, secrets === undefined ? undefined : []);
  const sealed = seal(box, parsed.secrets ?? {}, parsed.spec.name);
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(opcuaEndpoints).values({ ...parsed.spec, ...sealed }).returning();
    await recordAudit(tx, { actor: by.actor, action: "opcua_endpoint.created", entityType: "opcua_endpoint", entityId: row!.id, newValue: { ...specOf(row!) }, requestId: by.requestId });
    if (parsed.secrets && Object.keys(parsed.secrets).length > 0) await recordSecretsSet(tx, row!, by);
    return row!;
  });
}

/**
 * Settings given replace the current ones; `secrets` given replace every stored secret. Undefined
 * when no endpoint has this id. Without `box` (a plant file) the stored secrets are not checked.
 */
export async function updateEndpoint(
  db: DbOrTx,
  box: SecretBox | undefined,
  id: number,
  change: Partial<EndpointSpecInput>,
  secrets: unknown,
  by: Actor,
): Promise<EndpointRow | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(opcuaEndpoints).where(eq(opcuaEndpoints.id, id)).for("update");
    if (!current) return undefined;
    const merged: EndpointSpecInput = { ...specOf(current), ...definedOnly(change), name: current.name };
    // A new mode without a policy takes that mode's default rather than keeping a policy that contradicts it.
    if (change.securityMode !== undefined && change.securityPolicy === undefined) delete merged.securityPolicy;
    if (change.identity !== undefined && change.identity !== "username" && change.username === undefined) merged.username = null;
    const stored = secrets !== undefined && secrets !== null ? [] : box ? endpointSecretNames(box, current) : undefined;
    const parsed = parse(merged, secrets, stored);
    const sealed = parsed.secrets && seal(box, parsed.secrets, current.name);
    const [row] = await tx
      .update(opcuaEndpoints)
      .set({ ...parsed.spec, ...(sealed ?? {}), updatedAt: sql`now()`, version: sql`${opcuaEndpoints.version} + 1` })
      .where(eq(opcuaEndpoints.id, id))
      .returning();
    // Secrets are not part of the spec: their change is the security event below, never their values.
    await recordAudit(tx, { actor: by.actor, action: "opcua_endpoint.updated", entityType: "opcua_endpoint", entityId: id, oldValue: { ...specOf(current) }, newValue: { ...specOf(row!) }, requestId: by.requestId });
    if (parsed.secrets) await recordSecretsSet(tx, row!, by);
    return row;
  });
}

/** The row's settings in the shape of a spec, to compare with one or to merge a change into. */
export function specOf(row: EndpointRow): EndpointSpec {
  const { name, site, url, securityMode, securityPolicy, identity, username, publishingIntervalMs, maxItemsPerSubscription, enabled } = row;
  return { name, site, url, securityMode, securityPolicy, identity, username, publishingIntervalMs, maxItemsPerSubscription, enabled };
}

function definedOnly<T extends object>(change: T): Partial<T> {
  return Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export async function deleteEndpoint(db: DbOrTx, id: number, by: Actor): Promise<EndpointRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.delete(opcuaEndpoints).where(eq(opcuaEndpoints.id, id)).returning();
    if (row) await recordAudit(tx, { actor: by.actor, action: "opcua_endpoint.deleted", entityType: "opcua_endpoint", entityId: id, oldValue: { ...specOf(row) }, requestId: by.requestId });
    return row;
  });
}

export async function getEndpoint(db: DbOrTx, id: number): Promise<EndpointRow | undefined> {
  const [row] = await db.select().from(opcuaEndpoints).where(eq(opcuaEndpoints.id, id));
  return row;
}

export async function endpointByName(db: DbOrTx, name: string): Promise<EndpointRow | undefined> {
  const [row] = await db.select().from(opcuaEndpoints).where(eq(opcuaEndpoints.name, name));
  return row;
}

/** `sites` undefined: every endpoint; otherwise those of these sites (never the site-less ones). */
export function listEndpoints(db: DbOrTx, sites?: readonly string[]): Promise<EndpointRow[]> {
  const where = sites === undefined ? undefined : sites.length === 0 ? sql`false` : inArray(opcuaEndpoints.site, [...sites]);
  return db.select().from(opcuaEndpoints).where(where).orderBy(asc(opcuaEndpoints.name));
}

/** Health as the ingest process sees it: connected since, or the last error. */
export async function recordEndpointHealth(db: DbOrTx, id: number, health: { connectedAt: Date } | { error: string }): Promise<void> {
  const set = "connectedAt" in health ? { connectedAt: health.connectedAt, lastError: null } : { connectedAt: null, lastError: health.error, lastErrorAt: sql`now()` };
  await db.update(opcuaEndpoints).set(set).where(eq(opcuaEndpoints.id, id));
}

/**
 * Re-seals every endpoint's secrets not under the active key, in one transaction (the OPC UA half
 * of `plantgraph secrets rotate`); a row whose key is gone aborts it and changes nothing.
 */
export async function rotateEndpointSecrets(db: DbOrTx, box: SecretBox): Promise<number> {
  return db.transaction(async (tx) => {
    const stale = await tx
      .select()
      .from(opcuaEndpoints)
      .where(and(ne(opcuaEndpoints.secretsKeyId, box.activeKeyId), ne(opcuaEndpoints.secretsKeyId, NO_SECRETS_KEY_ID)))
      .for("update");
    for (const row of stale) {
      const aad = secretsAad(row.name);
      const sealed = box.seal(box.open(row.secretsCiphertext, row.secretsKeyId, aad), aad);
      await tx
        .update(opcuaEndpoints)
        .set({ secretsCiphertext: sealed.ciphertext, secretsKeyId: sealed.keyId, version: sql`${opcuaEndpoints.version} + 1` })
        .where(eq(opcuaEndpoints.id, row.id));
    }
    return stale.length;
  });
}

function recordSecretsSet(tx: DbOrTx, row: EndpointRow, by: Actor): Promise<void> {
  return recordSecurityEvent(tx, {
    action: "opcua_endpoint.secrets_set",
    actor: by.actor,
    outcome: "success",
    resource: `opcua_endpoint:${row.id}`,
    detail: { name: row.name, identity: row.identity, keyId: row.secretsKeyId },
    requestId: by.requestId,
  });
}
