import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { countUnchained } from "../../src/audit/audit.queries.js";
import { verifyStoredTrail } from "../../src/audit/trail.verify.js";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { parseConfig } from "../../src/config.js";
import type { Database } from "../../src/db/database.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startHub, type Hub } from "../../src/hub.js";
import { expireTelemetry } from "../../src/lifecycle/retention.js";
import { runRollups } from "../../src/lifecycle/rollups.js";
import { createLogger } from "../../src/log/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { eventually, graphql } from "../support/graphql.js";
import { sealerPath, sealerPerSitePlant } from "../support/plant.js";
import { TEST_MQTT_URL, TEST_REDIS_URL } from "../support/services.js";

/**
 * Backup and restore as the README documents them: pg_dump (custom format) of the database of a
 * running hub that is ingesting, pg_restore into an empty database, and every table (telemetry
 * across its day partitions, rollups, lots, the audit trail, the migration journal) comes back
 * identical; the restored database is partitioned the same way, needs no migration and takes
 * new readings.
 */

const run = promisify(execFile);
const enterprise = `br${randomBytes(3).toString("hex")}`;
const machinePath = sealerPath(enterprise, "berlin");

/** Every table's rows as one digest, and how many; a partitioned table counts all its partitions. */
async function contents(database: Database): Promise<Record<string, { rows: number; digest: string }>> {
  const { rows: tables } = await database.query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('public', 'drizzle') and c.relkind in ('r', 'p') and not c.relispartition order by 1`,
  );
  const result: Record<string, { rows: number; digest: string }> = {};
  for (const { name } of tables) {
    const { rows } = await database.query<{ rows: number; digest: string | null }>(
      `select count(*)::int as rows, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${name} t`,
    );
    result[name] = { rows: rows[0]!.rows, digest: rows[0]!.digest! };
  }
  return result;
}

const partitionsOf = async (database: Database) =>
  (await database.query<{ name: string }>(`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'telemetry'::regclass order by 1`)).rows.map((r) => r.name);

describe("backup and restore of a running hub", () => {
  let source: TestDatabase;
  let restored: TestDatabase;
  let hub: Hub;
  let folder: string;
  let publisher: mqtt.MqttClient;

  beforeAll(async () => {
    source = await createTestDatabase("backup_source");
    restored = await createTestDatabase("backup_restored", { migrate: false });
    folder = await mkdtemp(path.join(tmpdir(), "pg-backup-"));
    const log = createLogger("silent");
    await applyPlantText(source.database, sealerPerSitePlant(enterprise, ["berlin"]), "backup.yaml", log);
    const { key } = await createApiKey(source.database.db, { name: "admin", role: "admin", sites: null, createdBy: "test" });
    const config = parseConfig({
      NODE_ENV: "test",
      DATABASE_URL: source.url,
      REDIS_URL: TEST_REDIS_URL,
      MQTT_URL: TEST_MQTT_URL,
      MQTT_CLIENT_ID: `${enterprise}-hub`,
      JOBS_PREFIX: `backup${randomBytes(3).toString("hex")}`,
      PORT: "0",
      SIMULATOR: "false",
      LOG_LEVEL: "silent",
    });
    hub = await startHub({ config, roles: ["api", "ingest"], log });

    // Readings through the broker, a lot with its quality result and hold (audited), rollups and an audited expiry run.
    publisher = await mqtt.connectAsync(TEST_MQTT_URL, { reconnectPeriod: 0 });
    const now = Date.now();
    for (let i = 0; i < 50; i++) await publisher.publishAsync(`${machinePath}/temperature`, JSON.stringify({ value: 60 + i / 10, ts: now - 60_000 + i * 1000 }), { qos: 1 });
    await eventually(async () => ((await source.database.query<{ n: number }>(`select count(*)::int as n from telemetry`)).rows[0]!.n === 50 ? true : undefined), "50 readings stored");
    const machine = (await machineByPath(source.database.db, machinePath))!;
    const started = await graphql(hub.graphqlUrl!, `mutation($m: ID!) { startLot(input: { machineId: $m, code: "backup-lot" }) { lot { id } } }`, { m: globalId("Machine", machine.id) }, key);
    const lotId = (started.data as any).startLot.lot.id as string;
    await graphql(hub.graphqlUrl!, `mutation($id: ID!) { recordQualityResult(input: { lotId: $id, characteristic: "weight", value: 1, passed: true }) { errors { message } } }`, { id: lotId }, key);
    await graphql(hub.graphqlUrl!, `mutation($id: ID!) { setLotHold(input: { id: $id, onHold: true, reason: "recall" }) { errors { message } } }`, { id: lotId }, key);
    await runRollups(source.database, new Date());
    await expireTelemetry(source.database, config.lifecycle.retention, new Date());
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await hub?.stop();
    await source?.drop();
    await restored?.drop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it("restores every table identically, partitioned the same, with nothing left to migrate", async () => {
    const dump = path.join(folder, "plantgraph.dump");
    // A record linked between the dump's snapshot and the comparison below would tell them apart.
    await eventually(async () => ((await countUnchained(source.database.query)).pending === 0 ? true : undefined), "every audit record linked");
    // The hub keeps running (and its connections open) while pg_dump takes its snapshot.
    await run("pg_dump", ["--format=custom", "--no-owner", `--file=${dump}`, `--dbname=${source.url}`]);
    await run("pg_restore", ["--no-owner", "--exit-on-error", `--dbname=${restored.url}`, dump]);

    const before = await contents(source.database);
    const after = await contents(restored.database);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(["public.telemetry", "public.audit_entry", "public.lot", "public.telemetry_rollup_1m", "drizzle.__drizzle_migrations"]));
    expect(before["public.telemetry"]!.rows).toBe(50);
    expect((await source.database.query<{ n: number }>(`select count(*)::int as n from audit_entry`)).rows[0]!.n).toBeGreaterThanOrEqual(4);
    expect(after).toEqual(before);
    expect(await partitionsOf(restored.database)).toEqual(await partitionsOf(source.database));
    // The restored audit trail verifies: every record and link came back as it was.
    const trail = await verifyStoredTrail(restored.database.query);
    expect(trail).toMatchObject({ ok: true });
    expect(trail.records).toBeGreaterThanOrEqual(4);

    // The restored database is current and working: no migration pending, new readings land in their partition.
    await restored.database.migrate();
    expect(await contents(restored.database)).toEqual(before);
    await restored.database.query(`insert into telemetry (data_point_id, ts, value) values (1, now(), 1)`);
    expect((await restored.database.query<{ p: string }>(`select tableoid::regclass::text as p from telemetry where value = 1 and ts > now() - interval '1 minute'`)).rows[0]!.p).toMatch(/^telemetry_p\d{8}$/);
  });
});
