import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../../src/audit/audit.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { parseConfig } from "../../src/config.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createLogger } from "../../src/log/logger.js";
import { appendEntries, connect } from "../support/audit.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { firstResults, graphql, wsClient } from "../support/graphql.js";

/** The audit trail over GraphQL, as an auditor sees it. */
describe("audit trail over GraphQL", () => {
  let testDb: TestDatabase;
  let dir: string;
  let hub: Hub;
  let endpoint: string;
  let auditor: string;

  beforeAll(async () => {
    testDb = await createTestDatabase("audit_graphql");
    dir = await mkdtemp(path.join(tmpdir(), "plantgraph-audit-graphql-"));
    auditor = (await createApiKey(testDb.database.db, { name: "auditor", role: "auditor", sites: null, createdBy: "test" })).key;
    await appendEntries(testDb.database, 12);
    const config = parseConfig({ NODE_ENV: "test", DATABASE_URL: testDb.url, DATA_DIR: dir, PORT: "0", SIMULATOR: "false", LOG_LEVEL: "silent", RATE_LIMIT_PER_MINUTE: "100000" });
    hub = await startHub({ config, roles: ["api"], log: createLogger("silent") });
    endpoint = hub.graphqlUrl!;
  });
  afterAll(async () => {
    await hub?.stop();
    await testDb?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("pages the trail newest first with a stable cursor and filters it", async () => {
    const page = `query($after: String) { auditEntries(first: 5, after: $after, filter: { action: ALARM_ACKNOWLEDGED }) { totalCount edges { cursor node { id seq action hash } } pageInfo { hasNextPage endCursor } } }`;
    const first = await graphql(endpoint, page, {}, auditor);
    const second = await graphql(endpoint, page, { after: first.data!.auditEntries.pageInfo.endCursor }, auditor);
    const ids = [...first.data!.auditEntries.edges, ...second.data!.auditEntries.edges].map((e: any) => Number(e.node.id));
    expect(first.data!.auditEntries.totalCount).toBe(4);
    expect(ids).toHaveLength(4);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    expect(second.data!.auditEntries.pageInfo.hasNextPage).toBe(false);
    expect(first.data!.auditEntries.edges.every((e: any) => e.node.action === "ALARM_ACKNOWLEDGED" && /^[0-9a-f]{64}$/.test(e.node.hash))).toBe(true);
  });

  it("auditAppended delivers new records once linked, in chain order", async () => {
    const client = wsClient(endpoint, { authorization: `Bearer ${auditor}` });
    const tag = `follow-${randomBytes(3).toString("hex")}`;
    try {
      const results = firstResults(client, `subscription($t: String) { auditAppended(entityType: $t) { seq entityId } }`, 3, { t: tag });
      // The subscription starts from the head at subscribe time: give it a moment to be set up.
      await new Promise((r) => setTimeout(r, 300));
      for (const id of [1, 2, 3]) await testDb.database.db.transaction((tx) => recordAudit(tx, { actor: "test", action: "rule.updated", entityType: tag, entityId: id }));
      const received = (await results).map((r: any) => r.data.auditAppended);
      expect(received.map((r: any) => r.entityId)).toEqual(["1", "2", "3"]);
      expect(received[1].seq).toBeGreaterThan(received[0].seq);
      expect(received[2].seq).toBeGreaterThan(received[1].seq);
    } finally {
      await client.dispose();
    }
  });

  it("verifyAuditTrail names the first record edited behind the database's back", async () => {
    const ok = await graphql(endpoint, `{ verifyAuditTrail { ok records problem { kind } } }`, {}, auditor);
    expect(ok.data!.verifyAuditTrail).toMatchObject({ ok: true, problem: null });
    const session = await connect(testDb.url);
    try {
      await session.query("set session_replication_role = replica");
      await session.query(`delete from audit_chain_link where seq = 7`);
    } finally {
      await session.close();
    }
    const broken = await graphql(endpoint, `{ verifyAuditTrail { ok problem { kind seq detail } } }`, {}, auditor);
    expect(broken.data!.verifyAuditTrail).toMatchObject({ ok: false, problem: { kind: "DELETED", seq: 7 } });
  });
});
