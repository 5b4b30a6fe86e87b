import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../src/audit/audit.js";
import { linkAllPending } from "../../src/audit/chainer.js";
import { loadOrCreateHubKey, type HubKey } from "../../src/audit/hub-key.js";
import { verifyStoredTrail } from "../../src/audit/trail.verify.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { allSites, type Identity } from "../../src/auth/identity.js";
import { createIntegration } from "../../src/integrations/integration.service.js";
import { createLogger } from "../../src/log/logger.js";
import { reauthenticate } from "../../src/signatures/reauthenticate.js";
import { checkSignature, signaturesOf, signRecord } from "../../src/signatures/signature.service.js";
import { seedTask } from "../support/alarms.js";
import { connect } from "../support/audit.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { sealerPath, sealerPerSitePlant } from "../support/plant.js";
import { tokenAuthenticator } from "../support/test-authenticator.js";

describe("electronic signatures", () => {
  let testDb: TestDatabase;
  let dir: string;
  let key: HubKey;
  let taskId: number;
  const signer = { id: "user:ada", name: "Ada Lovelace" };

  beforeAll(async () => {
    testDb = await createTestDatabase("esign");
    dir = await mkdtemp(path.join(tmpdir(), "plantgraph-esign-"));
    key = await loadOrCreateHubKey(path.join(dir, "hub.pem"));
    await applyPlantText(testDb.database, sealerPerSitePlant("esig", ["berlin"]), "plant.yaml", createLogger("silent"));
    const machine = (await machineByPath(testDb.database.db, sealerPath("esig", "berlin")))!;
    const board = await createIntegration(testDb.database.db, undefined, { kind: "builtin", name: "board", site: "esig/berlin" }, { actor: "test" });
    taskId = (await seedTask(testDb.database.db, { integrationId: board.id, machineId: machine.id, title: "Close deviation D-17" })).id;
  });
  afterAll(async () => {
    await testDb?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("binds the signature to the record's hash: a later change of the record invalidates it", async () => {
    const { db } = testDb.database;
    const outcome = await signRecord(db, key, { recordType: "task", recordId: taskId, meaning: "approved", reason: "deviation closed", signer });
    if (!("signature" in outcome)) throw new Error(outcome.message);
    const signature = outcome.signature;
    expect(signature).toMatchObject({ recordType: "task", recordId: String(taskId), meaning: "approved", signerName: "Ada Lovelace", keyId: key.keyId });
    expect(signature.recordHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await checkSignature(db, key.publicKeyPem, signature)).toEqual({ valid: true });

    // The signing is in the audit trail, and the trail still verifies.
    const { rows } = await testDb.database.query<{ action: string; new_value: { meaning: string; recordHash: string } }>(`select action, new_value from audit_entry where action = 'record.signed'`);
    expect(rows).toEqual([{ action: "record.signed", new_value: expect.objectContaining({ meaning: "approved", recordHash: signature.recordHash }) }]);
    expect((await verifyStoredTrail(testDb.database.query)).ok).toBe(true);

    await testDb.database.query(`update task set title = 'Close deviation D-18' where id = $1`, [taskId]);
    const check = await checkSignature(db, key.publicKeyPem, (await signaturesOf(db, "task", taskId))[0]!);
    expect(check.valid).toBe(false);
    expect(check.problem).toMatch(/changed after it was signed/);
  });

  it("keeps a signature of an audit entry valid once the entry is linked into the chain: linking changes nothing in it", async () => {
    const { db } = testDb.database;
    await db.transaction((tx) => recordAudit(tx, { actor: "user:ada", action: "rule.updated", entityType: "rule", entityId: 17, reason: "threshold lowered" }));
    const { rows } = await testDb.database.query<{ entry_id: string }>(`select entry_id from audit_unlinked order by entry_id desc limit 1`);
    const entryId = Number(rows[0]!.entry_id);
    const outcome = await signRecord(db, key, { recordType: "audit_entry", recordId: entryId, meaning: "reviewed", signer });
    if (!("signature" in outcome)) throw new Error(outcome.message);
    expect(await linkAllPending(db)).toBeGreaterThan(0);
    expect((await testDb.database.query(`select 1 from audit_chain_link where entry_id = $1`, [entryId])).rows).toHaveLength(1);
    expect(await checkSignature(db, key.publicKeyPem, outcome.signature)).toEqual({ valid: true });
  });

  it("refuses to sign a record that changed since the signer reviewed it, or that does not exist", async () => {
    const { db } = testDb.database;
    expect(await signRecord(db, key, { recordType: "task", recordId: taskId, meaning: "reviewed", expectedHash: "0".repeat(64), signer })).toMatchObject({ problem: "changed" });
    expect(await signRecord(db, key, { recordType: "task", recordId: 999_999, meaning: "reviewed", signer })).toMatchObject({ problem: "not_found" });
  });

  it("shows a signature row altered behind the database's back as invalid, and the row cannot be updated normally", async () => {
    const { db } = testDb.database;
    const outcome = await signRecord(db, key, { recordType: "task", recordId: taskId, meaning: "released", signer });
    if (!("signature" in outcome)) throw new Error(outcome.message);
    await expect(testDb.database.query(`update electronic_signature set meaning = 'reviewed' where id = $1`, [outcome.signature.id])).rejects.toThrow(/append-only/);
    const session = await connect(testDb.url);
    try {
      await session.query("begin");
      await session.query("set local session_replication_role = replica");
      await session.query(`update electronic_signature set signer_name = 'Someone Else' where id = $1`, [outcome.signature.id]);
      const { rows } = await session.query<Record<string, unknown>>(`select * from electronic_signature where id = $1`, [outcome.signature.id]);
      const altered = { ...outcome.signature, signerName: rows[0]!.signer_name as string };
      expect(await checkSignature(db, key.publicKeyPem, altered)).toEqual({ valid: false, problem: expect.stringMatching(/altered/) });
    } finally {
      await session.query("rollback");
      await session.close();
    }
  });

  describe("re-authentication", () => {
    const ada: Identity = { kind: "user", id: "user:ada", name: "Ada Lovelace", role: "engineer", scope: allSites };
    const bob: Identity = { ...ada, id: "user:bob", name: "Bob" };
    const tokenAt = (iat: number, sub: string) => new UnsecuredJWT({ sub }).setIssuedAt(iat).encode();
    const now = Math.floor(Date.now() / 1000);
    const fresh = tokenAt(now - 30, "ada");
    const stale = tokenAt(now - 3_600, "ada");
    const bobs = tokenAt(now, "bob");
    const authenticator = tokenAuthenticator({ [fresh]: ada, [stale]: ada, [bobs]: bob });
    const options = { requestId: "r1", maxAgeSeconds: 300 };

    it("accepts the signer's own fresh credential only", async () => {
      const deps = { authenticator, db: testDb.database.db };
      expect(await reauthenticate(deps, ada, fresh, options)).toBeUndefined();
      expect(await reauthenticate(deps, ada, stale, options)).toMatch(/sign in again/);
      expect(await reauthenticate(deps, ada, bobs, options)).toMatch(/not yours/);
      expect(await reauthenticate(deps, ada, "wrong", options)).toMatch(/re-authentication failed: invalid API key/);
      const { rows } = await testDb.database.query<{ reason: string }>(`select detail->>'reason' as reason from security_event where resource = 'signature' order by id`);
      expect(rows.map((r) => r.reason)).toEqual(["stale_token", "signer_mismatch"]);
    });
  });
});
