import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, jsonb, pgTable, smallint, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * The audit trail: who did what to which record, when, old and new values, why. `action` is one of
 * the closed list in src/audit/audit.ts. Rows are written in the same transaction as the change
 * they describe, and never changed: the database refuses every UPDATE, DELETE and TRUNCATE.
 *
 * Tamper evidence: the writer sends `content_hash`, SHA-256 of the row's canonical JSON; the
 * chainer (src/audit/chainer.ts) then links it under the head row's lock (`audit_chain_head`) by
 * inserting its `audit_chain_link`: `seq` (gap-free), `prev_hash` and `hash` = SHA-256(prev_hash ‖
 * content_hash). Links are insert-only too. Rows written before the chain existed have no content
 * hash and no link.
 */
/** What an audit entry says, before any chain column: also the benchmark's plain baseline table. */
export const auditEntryColumns = () => ({
  id: bigserial("id", { mode: "number" }).primaryKey(),
  at: timestamp("at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  /** "user:<sub>", "key:<id>", "system:<component>", "tool:<integration id>:<person>", "cli". */
  actor: text("actor").notNull(),
  action: text("action").notNull(),
  entityType: text("entity_type").notNull(),
  entityId: text("entity_id").notNull(),
  oldValue: jsonb("old_value").$type<Record<string, unknown>>(),
  newValue: jsonb("new_value").$type<Record<string, unknown>>(),
  reason: text("reason"),
  requestId: text("request_id"),
});

export const auditEntries = pgTable(
  "audit_entry",
  {
    ...auditEntryColumns(),
    contentHash: text("content_hash"),
  },
  (t) => [index("audit_entry_entity").on(t.entityType, t.entityId, t.id), index("audit_entry_at").on(t.at)],
);

/** An entry's place in the hash chain, inserted once by the chainer. */
export const auditChainLinks = pgTable("audit_chain_link", {
  /** Position in the chain, 1, 2, 3 ...: the order in which the chainer saw the commits. */
  seq: bigint("seq", { mode: "number" }).primaryKey(),
  entryId: bigint("entry_id", { mode: "number" })
    .notNull()
    .unique("audit_chain_link_entry")
    .references(() => auditEntries.id),
  prevHash: text("prev_hash").notNull(),
  hash: text("hash").notNull(),
});

/**
 * Entries appended and not linked yet: the chainer's work list, filled by a trigger on insert into
 * audit_entry and emptied as it links. Why a list: finding unlinked entries by an anti-join would
 * read the whole trail at every turn.
 */
export const auditUnlinked = pgTable("audit_unlinked", {
  entryId: bigint("entry_id", { mode: "number" }).primaryKey(),
});

/** The chain's head: one row, locked by the chainer while it links. */
export const auditChainHead = pgTable(
  "audit_chain_head",
  {
    id: smallint("id").primaryKey().default(1),
    /** Names this database's chain in its checkpoints, so chains sharing a sink never mix. */
    chainId: uuid("chain_id").notNull().defaultRandom(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [check("audit_chain_head_single", sql`${t.id} = 1`)],
);

export const signatureMeanings = ["reviewed", "approved", "released"] as const;
export type SignatureMeaning = (typeof signatureMeanings)[number];

/**
 * Electronic signatures (21 CFR Part 11 §11.50, §11.70): who signed which record, meaning what,
 * when, bound to the hash of the record as signed. `hub_signature` is the hub's Ed25519 signature
 * over all of it, so the manifestation cannot be edited and stay valid either.
 */
export const electronicSignatures = pgTable(
  "electronic_signature",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    recordType: text("record_type").notNull(),
    recordId: text("record_id").notNull(),
    recordHash: text("record_hash").notNull(),
    meaning: text("meaning", { enum: signatureMeanings }).notNull(),
    signerId: text("signer_id").notNull(),
    signerName: text("signer_name").notNull(),
    signedAt: timestamp("signed_at", { withTimezone: true, precision: 3 }).notNull(),
    reason: text("reason"),
    hubSignature: text("hub_signature").notNull(),
    keyId: text("key_id").notNull(),
  },
  (t) => [
    index("electronic_signature_record").on(t.recordType, t.recordId, t.id),
    check("electronic_signature_meaning", sql`${t.meaning} in ('reviewed', 'approved', 'released')`),
  ],
);
