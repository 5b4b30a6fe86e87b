import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsFolder, openDatabase, type Database } from "../../src/db/database.js";
import { dayPartitions, ensureTelemetryPartitions } from "../../src/lifecycle/partitions.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/**
 * Migration 0003 turns telemetry into a table partitioned by day. A database that already holds
 * readings keeps every one of them, each in its day's partition; readings outside every day
 * partition land in the default partition and move once their day's partition is made.
 */

/** The migration whose hand-written part partitions telemetry, by its tag's name (its number may change). */
const PARTITIONING_MIGRATION = /_traceability$/;

/** A copy of the migrations folder that stops before partitioning. */
async function migrationsBeforePartitioning(): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), "pg-migrations-"));
  await cp(migrationsFolder(), folder, { recursive: true });
  const journalPath = path.join(folder, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8")) as { entries: { tag: string }[] };
  const partitioning = journal.entries.findIndex((entry) => PARTITIONING_MIGRATION.test(entry.tag));
  if (partitioning < 0) throw new Error("no *_traceability migration in the journal");
  journal.entries = journal.entries.slice(0, partitioning);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}

async function migrateTo(database: Database, folder: string): Promise<void> {
  if (database.kind === "postgres") {
    const { migrate } = await import("drizzle-orm/node-postgres/migrator");
    await migrate(database.db as never, { migrationsFolder: folder });
  } else {
    const { migrate } = await import("drizzle-orm/pglite/migrator");
    await migrate(database.db as never, { migrationsFolder: folder });
  }
}

const DAY = 86_400_000;
const readings = [
  [1, "2026-03-01T10:00:00.000Z", 1.5],
  [1, "2026-03-01T23:59:59.999Z", 2.5],
  [2, "2026-03-02T00:00:00.000Z", 3.5],
  [2, new Date(Math.floor(Date.now() / DAY) * DAY).toISOString(), 4.5],
] as const;

const engines = [
  ["PostgreSQL", async () => {
    const scratch: TestDatabase = await createTestDatabase("partitioning");
    // createTestDatabase migrates fully: start this one bare again.
    await scratch.database.query(`drop schema public cascade; create schema public; drop schema if exists drizzle cascade`);
    return { database: scratch.database, close: scratch.drop };
  }],
  ["PGlite", async () => {
    const database = await openDatabase({ dataDir: "memory://" });
    return { database, close: () => database.close() };
  }],
] as const;

describe.each(engines)("partitioning an existing telemetry table on %s", (_engine, open) => {
  let database: Database;
  let close: () => Promise<void>;
  let folder: string;

  beforeAll(async () => {
    ({ database, close } = await open());
    folder = await migrationsBeforePartitioning();
    await migrateTo(database, folder);
    await database.query(
      `insert into telemetry (data_point_id, ts, value) select * from unnest($1::int4[], $2::timestamptz[], $3::float8[])`,
      [readings.map((r) => r[0]), readings.map((r) => r[1]), readings.map((r) => r[2])],
    );
    await database.migrate();
  });

  afterAll(async () => {
    await close?.();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it("keeps every reading, each in its UTC day's partition", async () => {
    const { rows } = await database.query<{ partition: string; data_point_id: number; ts: Date; value: number }>(
      `select tableoid::regclass::text as partition, data_point_id, ts, value from telemetry order by ts`,
    );
    expect(rows.map((r) => [r.data_point_id, new Date(r.ts).toISOString(), r.value])).toEqual(readings.map((r) => [...r]));
    expect(rows.map((r) => r.partition)).toEqual([
      "telemetry_p20260301",
      "telemetry_p20260301",
      "telemetry_p20260302",
      `telemetry_p${readings[3][1].slice(0, 10).replaceAll("-", "")}`,
    ]);
    expect(await database.query(`select to_regclass('telemetry_before_partitioning') as old`)).toMatchObject({ rows: [{ old: null }] });
  });

  it("keeps a reading beyond every partition in the default one until its day's partition is made", async () => {
    const far = new Date(Date.now() + 60 * DAY);
    await database.query(`insert into telemetry (data_point_id, ts, value) values (1, $1, 9)`, [far.toISOString()]);
    const where = async () => (await database.query<{ p: string }>(`select tableoid::regclass::text as p from telemetry where value = 9`)).rows.map((r) => r.p);
    expect(await where()).toEqual(["telemetry_default"]);

    expect(await ensureTelemetryPartitions(database.db, far, 0)).toBe(2); // that day and the one before
    expect(await where()).toEqual([`telemetry_p${far.toISOString().slice(0, 10).replaceAll("-", "")}`]);
    expect(await ensureTelemetryPartitions(database.db, far, 0)).toBe(0);
    expect((await dayPartitions(database.db)).some((p) => p.from.getTime() === Date.parse(far.toISOString().slice(0, 10)))).toBe(true);
  });

  it("still refuses a duplicate (data point, timestamp) and takes ON CONFLICT DO NOTHING", async () => {
    await expect(database.query(`insert into telemetry (data_point_id, ts, value) values (1, $1, 0)`, [readings[0][1]])).rejects.toMatchObject({ code: "23505" });
    const result = await database.query(`insert into telemetry (data_point_id, ts, value) values (1, $1, 0) on conflict (data_point_id, ts) do nothing`, [readings[0][1]]);
    expect(result.rowCount).toBe(0);
  });
});
