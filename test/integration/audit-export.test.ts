import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHashOf, linkHashOf } from "../../src/audit/audit-hash.js";
import { chainHead, readChain } from "../../src/audit/audit.queries.js";
import { exportAuditBundle } from "../../src/audit/bundle.export.js";
import { ExportRejected } from "../../src/audit/bundle.writer.js";
import { verifyBundle } from "../../src/audit/bundle.verify.js";
import { directorySink, httpSink, readCheckpoints, signCheckpoint } from "../../src/audit/checkpoint.js";
import { startCheckpointer } from "../../src/audit/checkpointer.js";
import { createLogger } from "../../src/log/logger.js";
import { loadOrCreateHubKey, type HubKey } from "../../src/audit/hub-key.js";
import { verifyStoredTrail } from "../../src/audit/trail.verify.js";
import { appendEntries, connect } from "../support/audit.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("audit checkpoints and export bundles", () => {
  let testDb: TestDatabase;
  let dir: string;
  let key: HubKey;
  let checkpointDir: string;
  let start: Date;
  beforeAll(async () => {
    testDb = await createTestDatabase("audit_export");
    dir = await mkdtemp(path.join(tmpdir(), "plantgraph-audit-"));
    key = await loadOrCreateHubKey(path.join(dir, "keys", "audit-ed25519.pem"));
    checkpointDir = path.join(dir, "checkpoints");
    start = new Date(Date.now() - 1000);
    await appendEntries(testDb.database, 40);
    await directorySink(checkpointDir).write(signCheckpoint(key, await chainHead(testDb.database.query), new Date()), key.publicKeyPem);
    await appendEntries(testDb.database, 20);
  });
  afterAll(async () => {
    await testDb?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps the hub key once made, mode 0600, and signs checkpoints with it", async () => {
    const again = await loadOrCreateHubKey(path.join(dir, "keys", "audit-ed25519.pem"));
    expect(again.keyId).toBe(key.keyId);
    expect((await stat(path.join(dir, "keys", "audit-ed25519.pem"))).mode & 0o777).toBe(0o600);
    // Replicas starting at once end up with one key between them.
    const racing = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateHubKey(path.join(dir, "race", "key.pem"))));
    expect(new Set(racing.map((k) => k.keyId)).size).toBe(1);
    expect((await readdir(path.join(dir, "race"))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    const report = await verifyStoredTrail(testDb.database.query, { checkpoints: { dir: checkpointDir, publicKeyPem: key.publicKeyPem } });
    expect(report).toMatchObject({ ok: true, records: 60, checkpointsMatched: 1, checkpointsRejected: [] });
  });

  it("a chain rewritten consistently, head included, passes without checkpoints and fails against them", async () => {
    const session = await connect(testDb.url);
    try {
      await session.query("begin");
      await session.query("set local session_replication_role = replica");
      // The attacker changes record 10 and re-links every record after it, then moves the head.
      const chain = [];
      for await (const row of readChain(session.query)) chain.push(row);
      let prevHash = chain[8]!.hash;
      for (const row of chain.slice(9)) {
        const content = row.seq === 10 ? { ...row.content, reason: "rewritten" } : row.content;
        const contentHash = contentHashOf(content);
        const hash = linkHashOf(prevHash, contentHash);
        await session.query(`update audit_entry set reason = $2, content_hash = $3 where id = $1`, [row.id, content.reason, contentHash]);
        await session.query(`update audit_chain_link set prev_hash = $2, hash = $3 where seq = $1`, [row.seq, prevHash, hash]);
        prevHash = hash;
      }
      await session.query(`update audit_chain_head set hash = $1`, [prevHash]);
      expect((await verifyStoredTrail(session.query)).ok).toBe(true);
      const report = await verifyStoredTrail(session.query, { checkpoints: { dir: checkpointDir, publicKeyPem: key.publicKeyPem } });
      expect(report.problem).toMatchObject({ kind: "edited", seq: 40 });
    } finally {
      await session.query("rollback");
      await session.close();
    }
  });

  it("a cut tail, head moved back too, is found by the checkpoint beyond it", async () => {
    const session = await connect(testDb.url);
    try {
      await session.query("begin");
      await session.query("set local session_replication_role = replica");
      await session.query(`delete from audit_entry where id in (select entry_id from audit_chain_link where seq > 30)`);
      await session.query(`delete from audit_chain_link where seq > 30`);
      const { rows } = await session.query<{ hash: string }>(`select hash from audit_chain_link where seq = 30`);
      await session.query(`update audit_chain_head set seq = 30, hash = $1`, [rows[0]!.hash]);
      const report = await verifyStoredTrail(session.query, { checkpoints: { dir: checkpointDir, publicKeyPem: key.publicKeyPem } });
      expect(report.problem).toMatchObject({ kind: "deleted", seq: 31 });
    } finally {
      await session.query("rollback");
      await session.close();
    }
  });

  it("ignores a checkpoint file whose signature does not verify, and says so", async () => {
    const forged = path.join(dir, "forged-checkpoints");
    const other = await loadOrCreateHubKey(path.join(dir, "other-key.pem"));
    const { chainId } = await chainHead(testDb.database.query);
    await directorySink(forged).write(signCheckpoint(other, { chainId, seq: 5, hash: "00".repeat(32) }, new Date()), other.publicKeyPem);
    // A genuine checkpoint of another database's chain in the same directory is set aside, and counted.
    await directorySink(forged).write(signCheckpoint(key, { chainId: "00000000-0000-4000-8000-000000000000", seq: 6, hash: "11".repeat(32) }, new Date()), key.publicKeyPem);
    const report = await verifyStoredTrail(testDb.database.query, { checkpoints: { dir: forged, publicKeyPem: key.publicKeyPem } });
    expect(report).toMatchObject({ ok: true, checkpointsMatched: 0, checkpointsRejected: [`checkpoint-${chainId}-000000000005.json`], checkpointsOfOtherChains: 1 });
  });

  it("the checkpointer sends each new head once to the directory and the HTTP sink, retrying a sink that failed", async () => {
    const received: { checkpoint: { seq: number; hash: string }; publicKey: string }[] = [];
    let failNext = true;
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        if (failNext) {
          failNext = false;
          res.writeHead(503).end();
          return;
        }
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkpoints`;
    const sinkDir = path.join(dir, "sink");
    const checkpointer = startCheckpointer({ query: testDb.database.query, key, sinks: [directorySink(sinkDir), httpSink(url)], everyMs: 3_600_000, log: createLogger("silent") });
    try {
      const head = await chainHead(testDb.database.query);
      expect(await checkpointer.checkpointNow()).toMatchObject({ seq: head.seq, hash: head.hash, keyId: key.keyId });
      expect(received).toEqual([]);
      // Only the HTTP sink still owes this head: it gets it at the next turn.
      await checkpointer.checkpointNow();
      expect(received).toEqual([{ checkpoint: expect.objectContaining({ seq: head.seq, hash: head.hash }), publicKey: key.publicKeyPem }]);
      expect(await checkpointer.checkpointNow()).toBeUndefined();
      expect((await readCheckpoints(sinkDir, key.publicKeyPem, head.chainId)).trusted).toEqual([expect.objectContaining({ seq: head.seq, hash: head.hash })]);
    } finally {
      await checkpointer.stop();
      server.close();
    }
  });

  it("exports a period as a bundle that verifies from its files alone", async () => {
    const out = path.join(dir, "bundle");
    const result = await exportAuditBundle({ query: testDb.database.query, key, from: start, to: new Date(Date.now() + 1000), out, createdBy: "user:auditor", checkpointDir });
    expect(result.verification).toMatchObject({ ok: true, records: 60, checkpointsMatched: 1 });
    expect((await readdir(out)).sort()).toEqual(["checkpoints", "entries.csv", "entries.ndjson", "hub-public-key.pem", "manifest.json", "manifest.sig", "summary.pdf"]);
    const csv = (await readFile(path.join(out, "entries.csv"), "utf8")).trimEnd().split("\r\n");
    expect(csv).toHaveLength(61);
    expect((await readFile(path.join(out, "summary.pdf"))).subarray(0, 5).toString()).toBe("%PDF-");

    // The database is gone for this check: only the folder and the hub's public key.
    await testDb.drop();
    expect(await verifyBundle(out, { publicKeyPem: key.publicKeyPem })).toMatchObject({ ok: true, keyId: key.keyId, chain: { ok: true, records: 60 } });

    // One changed character in the records: the manifest no longer covers the file.
    const entries = path.join(out, "entries.ndjson");
    const original = await readFile(entries, "utf8");
    await writeFile(entries, original.replace('"actor":"user:test-3"', '"actor":"user:test-4"'));
    expect(await verifyBundle(out, { publicKeyPem: key.publicKeyPem })).toMatchObject({ ok: false, bundleProblem: expect.stringMatching(/entries.ndjson was changed/) });
    await writeFile(entries, original);

    // A bundle re-signed by someone else's key fails against the hub's key.
    const other = await loadOrCreateHubKey(path.join(dir, "other-key.pem"));
    await writeFile(path.join(out, "manifest.sig"), other.sign(await readFile(path.join(out, "manifest.json"), "utf8")));
    expect(await verifyBundle(out, { publicKeyPem: key.publicKeyPem })).toMatchObject({ ok: false, bundleProblem: expect.stringMatching(/not a signature/) });
  });

  it("refuses to export into a folder that is not empty, or a period that ends before it starts", async () => {
    const busy = path.join(dir, "busy");
    await writeFile(path.join(dir, "marker"), "x");
    await expect(exportAuditBundle({ query: async () => ({ rows: [], rowCount: 0 }), key, from: new Date(), to: new Date(Date.now() + 1), out: dir, createdBy: "x" })).rejects.toThrow(ExportRejected);
    await expect(exportAuditBundle({ query: async () => ({ rows: [], rowCount: 0 }), key, from: new Date(1), to: new Date(0), out: busy, createdBy: "x" })).rejects.toThrow(/must be before/);
  });
});
