import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { createLogger } from "../../src/log/logger.js";
import { addLotComponent, startLot } from "../../src/lots/lot.service.js";
import { appendEntries, connect } from "../support/audit.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { REPO_ROOT } from "../support/hub-process.js";
import { sealerPath, sealerPerSitePlant } from "../support/plant.js";

/** `plantgraph audit ...` as an auditor runs it: the real binary against a real database. */
describe("plantgraph audit (CLI)", () => {
  let testDb: TestDatabase;
  let dir: string;
  let auditorKey: string;
  let viewerKey: string;

  const cli = promisify(execFile);
  const run = (args: string[], apiKey = auditorKey) =>
    cli(process.execPath, ["bin/plantgraph.js", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: testDb.url, DATA_DIR: dir, LOG_LEVEL: "silent", PLANTGRAPH_API_KEY: apiKey },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  beforeAll(async () => {
    testDb = await createTestDatabase("audit_cli");
    dir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-audit-cli-"));
    await createApiKey(testDb.database.db, { name: "admin", role: "admin", sites: null, createdBy: "test" });
    auditorKey = (await createApiKey(testDb.database.db, { name: "auditor", role: "auditor", sites: null, createdBy: "test" })).key;
    viewerKey = (await createApiKey(testDb.database.db, { name: "viewer", role: "viewer", sites: null, createdBy: "test" })).key;
    await appendEntries(testDb.database, 30);
  });
  afterAll(async () => {
    await testDb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("checkpoints, verifies, exports and verifies the bundle offline; a viewer may not", async () => {
    const checkpoint = await run(["audit", "checkpoint"]);
    expect(checkpoint).toMatchObject({ code: 0, stdout: expect.stringMatching(/^checkpoint signed: seq \d+/) });

    const verified = await run(["audit", "verify"]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^audit trail verified: \d+ records/);
    expect(verified.stdout).toContain("signed checkpoints matched: 1");

    const out = path.join(dir, "bundle");
    const exported = await run(["audit", "export", "--from", "2020-01-01", "--to", "2100-01-01", "--out", out]);
    expect(exported).toMatchObject({ code: 0, stdout: expect.stringContaining(`records to ${out}`) });
    const offline = await run(["audit", "verify", "--bundle", out, "--public-key", path.join(dir, "audit", "checkpoints", "hub-public-key.pem")], "");
    expect(offline).toMatchObject({ code: 0, stdout: expect.stringMatching(/^bundle verified: \d+ records/) });

    const denied = await run(["audit", "verify"], viewerKey);
    expect(denied).toMatchObject({ code: 1, stderr: expect.stringContaining("role viewer may not audit.read") });
  });

  it("exports a lot's record by its code and verifies the bundle offline", async () => {
    const { db } = testDb.database;
    await applyPlantText(testDb.database, sealerPerSitePlant("cli", ["berlin"]), "plant.yaml", createLogger("silent"));
    const machine = (await machineByPath(db, sealerPath("cli", "berlin")))!;
    const film = await startLot(db, machine, { code: "FILM-9" }, { actor: "test" });
    const pouch = await startLot(db, machine, { code: "POUCH-9", product: "pouch" }, { actor: "test" });
    await addLotComponent(db, pouch, film, { quantity: 3 }, { actor: "test" });

    const out = path.join(dir, "lot-bundle");
    const exported = await run(["lot", "export", "POUCH-9", "--out", out]);
    expect(exported).toMatchObject({ code: 0, stdout: expect.stringMatching(/^exported lot POUCH-9: 2 lots in its genealogy, 2 audit records, to /) });
    const offline = await run(["audit", "verify", "--bundle", out], "");
    expect(offline).toMatchObject({ code: 0, stdout: expect.stringMatching(/^lot bundle verified: lot POUCH-9, 2 lots in its genealogy, 2 audit records/) });

    expect(await run(["lot", "export", "NO-SUCH-LOT", "--out", path.join(dir, "none")])).toMatchObject({ code: 1, stderr: expect.stringContaining("no lot has the code or id") });
    expect(await run(["lot", "export", String(film.id), "--out", path.join(dir, "by-id")], viewerKey)).toMatchObject({ code: 1, stderr: expect.stringContaining("role viewer may not audit.export") });
  });

  it("exits 1 naming the record that was edited", async () => {
    const session = await connect(testDb.url);
    try {
      await session.query("set session_replication_role = replica");
      await session.query(`update audit_entry set reason = 'backdated' where id = (select entry_id from audit_chain_link where seq = 12)`);
    } finally {
      await session.close();
    }
    const verified = await run(["audit", "verify"]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/^audit trail NOT verified: record edited at seq 12 \(id \d+\): the content of the record at seq 12 does not match its hash/);

    // Exported all the same, every record, with the verdict; the bundle fails at the same record.
    const out = path.join(dir, "broken-bundle");
    const { rows } = await testDb.database.query<{ n: number }>(`select count(*)::int as n from audit_chain_link`);
    const exported = await run(["audit", "export", "--from", "2020-01-01", "--to", "2100-01-01", "--out", out]);
    expect(exported).toMatchObject({ code: 1, stderr: expect.stringContaining("does NOT verify: edited at seq 12") });
    expect((await readFile(path.join(out, "entries.ndjson"), "utf8")).trimEnd().split("\n")).toHaveLength(rows[0]!.n);
    const offline = await run(["audit", "verify", "--bundle", out], "");
    expect(offline).toMatchObject({ code: 1, stdout: expect.stringMatching(/^audit trail NOT verified: record edited at seq 12/) });
  });
});
