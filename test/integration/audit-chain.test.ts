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

  it("refuses UPDATE, DELETE and TRUNCATE of audit entries and of their links, even by their owner", async () => {
    const { query } = testDb.database;
    await appendEntries(testDb.database, 2);
    const firstEntry = `(select entry_id from audit_chain_link where seq = 1)`;
    await expect(query(`update audit_entry set reason = 'edited' where id = ${firstEntry}`)).rejects.toThrow(/audit_entry is append-only: UPDATE refused/);
    await expect(query(`delete from audit_entry where id = ${firstEntry}`)).rejects.toThrow(/audit_entry is append-only: DELETE refused/);
    await expect(query(`truncate audit_entry cascade`)).rejects.toThrow(/is append-only: TRUNCATE refused/);
    await expect(query(`update audit_chain_link set hash = prev_hash where seq = 1`)).rejects.toThrow(/audit_chain_link is append-only: UPDATE refused/);
    await expect(query(`update audit_chain_link set seq = 999 where seq = 1`)).rejects.toThrow(/audit_chain_link is append-only: UPDATE refused/);
    await expect(query(`delete from audit_chain_link where seq = 1`)).rejects.toThrow(/audit_chain_link is append-only: DELETE refused/);
    await expect(query(`truncate audit_chain_link`)).rejects.toThrow(/audit_chain_link is append-only: TRUNCATE refused/);
    // An entry not linked yet is no exception: nothing about an entry is ever updated.
    await testDb.database.db.transaction((tx) => recordAudit(tx, sampleEntry(7)));
    expect(await verifyStoredTrail(query)).toMatchObject({ ok: true, pending: 1 });
    await expect(query(`update audit_entry set reason = 'edited' where id in (select entry_id from audit_unlinked)`)).rejects.toThrow(/audit_entry is append-only: UPDATE refused/);
    await linkAllPending(testDb.database.db);
    expect(await verifyStoredTrail(query)).toMatchObject({ ok: true, pending: 0 });
    // The owner's own privileges lose them too (a superuser ignores privileges: the triggers remain).
    for (const table of ["audit_entry", "audit_chain_link"]) {
      const { rows } = await query<{ acl: string }>(`select relacl::text as acl from pg_class where relname = $1`, [table]);
      const ownerPrivileges = /(?:^\{|,)([a-z_]+)=([a-zA-Z*]+)\//.exec(rows[0]!.acl)![2]!;
      expect(ownerPrivileges, table).toContain("a");
      expect(ownerPrivileges, table).not.toMatch(/[wdD]/);
      const columns = await query(`select attname from pg_attribute where attrelid = $1::regclass and attacl is not null`, [table]);
      expect(columns.rows, `${table}: no column may be updated either`).toEqual([]);
    }
  });

  it("refuses an entry without its content hash", async () => {
    await expect(
      testDb.database.query(`insert into audit_entry (actor, action, entity_type, entity_id) values ('x', 'rule.created', 'rule', '1')`),
    ).rejects.toThrow(/content_hash must be/);
  });
});

describe("audit chain in PGlite", () => {
  it("links, verifies and refuses changes the same way", async () => {
    const database = await createPgliteDatabase();
    try {
      await appendEntries(database, 20);
      expect(await verifyStoredTrail(database.query)).toMatchObject({ ok: true, records: 20, lastSeq: 20 });
      await expect(database.query(`delete from audit_entry where id = (select entry_id from audit_chain_link where seq = 3)`)).rejects.toThrow(/append-only/);
      await expect(database.query(`update audit_entry set actor = 'x' where id = (select entry_id from audit_chain_link where seq = 3)`)).rejects.toThrow(/append-only/);
      await expect(database.query(`update audit_chain_link set hash = prev_hash where seq = 3`)).rejects.toThrow(/append-only/);
      await expect(database.query(`delete from audit_chain_link where seq = 3`)).rejects.toThrow(/append-only/);
    } finally {
      await database.close();
    }
  });
});
