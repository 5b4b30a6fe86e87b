import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../src/audit/audit.js";
import { verifyStoredTrail } from "../../src/audit/trail.verify.js";
import { chainHead } from "../../src/audit/audit.queries.js";
import { appendEntries, sampleEntry } from "../support/audit.js";
import { createPgliteDatabase, createTestDatabase, type TestDatabase } from "../support/database.js";

describe("audit chain in PostgreSQL", () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase("audit_chain");
  });
  afterAll(() => testDb?.drop());

  it("links appends from concurrent transactions in commit order, without gaps", async () => {
    const { database } = testDb;
    await Promise.all(Array.from({ length: 8 }, (_, writer) => appendEntries(database, 25, `w${writer}`)));
    // Several entries in one statement are linked one by one too.
    await database.db.transaction((tx) => recordAudit(tx, sampleEntry(1), sampleEntry(2), sampleEntry(3)));
    const report = await verifyStoredTrail(database.query);
    expect(report).toMatchObject({ ok: true, records: 203, firstSeq: 1, lastSeq: 203, expected: 203, unchained: 0 });
    expect(report.headHash).toBe((await chainHead(database.query)).hash);
  });

  it("refuses UPDATE, DELETE and TRUNCATE of audit entries, even by their owner", async () => {
    const { query } = testDb.database;
    await appendEntries(testDb.database, 2);
    await expect(query(`update audit_entry set reason = 'edited' where seq = 1`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(query(`delete from audit_entry where seq = 1`)).rejects.toThrow(/append-only: DELETE refused/);
    await expect(query(`truncate audit_entry`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    // The owner's own privileges lose them too (a superuser ignores privileges: the triggers remain).
    const { rows } = await query<{ acl: string }>(`select relacl::text as acl from pg_class where relname = 'audit_entry'`);
    const ownerPrivileges = /(?:^\{|,)([a-z_]+)=([a-zA-Z*]+)\//.exec(rows[0]!.acl)![2]!;
    expect(ownerPrivileges).toContain("a");
    expect(ownerPrivileges).not.toMatch(/[wdD]/);
    expect((await verifyStoredTrail(query)).ok).toBe(true);
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
      await expect(database.query(`delete from audit_entry where seq = 3`)).rejects.toThrow(/append-only/);
      await expect(database.query(`update audit_entry set actor = 'x' where seq = 3`)).rejects.toThrow(/append-only/);
    } finally {
      await database.close();
    }
  });
});
