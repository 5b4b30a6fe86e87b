import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../src/audit/audit.js";
import { verifyStoredTrail } from "../../src/audit/trail.verify.js";
import { chainHead } from "../../src/audit/audit.queries.js";
import { linkAllPending, linkPending } from "../../src/audit/chainer.js";
import { appendEntries, sampleEntry } from "../support/audit.js";
import { createPgliteDatabase, createTestDatabase, type TestDatabase } from "../support/database.js";

describe("audit chain in PostgreSQL", () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase("audit_chain");
  });
  afterAll(() => testDb?.drop());

  it("links appends of concurrent writers with concurrent chainers into one chain without gaps", async () => {
    const { database } = testDb;
    let writing = true;
    const chainers = Array.from({ length: 3 }, async () => {
      while (writing) await linkPending(database.db, 7);
    });
    await Promise.all(Array.from({ length: 8 }, (_, writer) => appendEntries(database, 25, `w${writer}`)));
    // Several entries in one statement.
    await database.db.transaction((tx) => recordAudit(tx, sampleEntry(1), sampleEntry(2), sampleEntry(3)));
    writing = false;
    await Promise.all(chainers);
    await linkAllPending(database.db);
    const report = await verifyStoredTrail(database.query);
    expect(report).toMatchObject({ ok: true, records: 203, firstSeq: 1, lastSeq: 203, expected: 203, pending: 0, legacy: 0 });
    expect(report.headHash).toBe((await chainHead(database.query)).hash);
  });

  it("refuses UPDATE, DELETE and TRUNCATE of audit entries, even by their owner", async () => {
    const { query } = testDb.database;
    await appendEntries(testDb.database, 2);
    await expect(query(`update audit_entry set reason = 'edited' where seq = 1`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(query(`delete from audit_entry where seq = 1`)).rejects.toThrow(/append-only: DELETE refused/);
    await expect(query(`truncate audit_entry`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    // Linking is the one change allowed, once: a linked entry cannot be moved or re-linked.
    await expect(query(`update audit_entry set seq = 999 where seq = 1`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(query(`update audit_entry set hash = prev_hash where seq = 1`)).rejects.toThrow(/append-only: UPDATE refused/);
    await testDb.database.db.transaction((tx) => recordAudit(tx, sampleEntry(7)));
    await expect(query(`update audit_entry set seq = 999, prev_hash = 'x', hash = 'y', reason = 'edited' where seq is null`)).rejects.toThrow(/append-only: UPDATE refused/);
    await linkAllPending(testDb.database.db);
    // The owner's own privileges lose them too (a superuser ignores privileges: the triggers remain).
    const { rows } = await query<{ acl: string }>(`select relacl::text as acl from pg_class where relname = 'audit_entry'`);
    const ownerPrivileges = /(?:^\{|,)([a-z_]+)=([a-zA-Z*]+)\//.exec(rows[0]!.acl)![2]!;
    expect(ownerPrivileges).toContain("a");
    expect(ownerPrivileges).not.toMatch(/[wdD]/);
    const columns = await query<{ attname: string }>(
      `select attname from pg_attribute where attrelid = 'audit_entry'::regclass and attacl::text like '%=w/%' order by attname`,
    );
    expect(columns.rows.map((r) => r.attname)).toEqual(["hash", "prev_hash", "seq"]);
    expect((await verifyStoredTrail(query)).ok).toBe(true);
  });

  it("refuses an entry without its content hash, or with a place in the chain of its own choosing", async () => {
    await expect(
      testDb.database.query(`insert into audit_entry (actor, action, entity_type, entity_id) values ('x', 'rule.created', 'rule', '1')`),
    ).rejects.toThrow(/content_hash must be/);
    await expect(
      testDb.database.query(`insert into audit_entry (actor, action, entity_type, entity_id, content_hash, seq) values ('x', 'rule.created', 'rule', '1', $1, 5)`, ["a".repeat(64)]),
    ).rejects.toThrow(/set by the chainer/);
  });
});

describe("audit chain in PGlite", () => {
  it("links, verifies and refuses changes the same way", async () => {
    const database = await createPgliteDatabase();
    try {
      await appendEntries(database, 20);
      expect(await verifyStoredTrail(database.query)).toMatchObject({ ok: true, records: 20, lastSeq: 20 });
      await expect(database.query(`delete from audit_entry where seq = 3`)).rejects.toThrow(/append-only/);
      await expect(database.query(`update audit_entry set actor = 'x' where seq = 3`)).rejects.toThrow(/append-only/);
    } finally {
      await database.close();
    }
  });
});
