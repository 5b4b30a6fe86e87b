import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lots } from "../../schema/db/lots.js";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import type { Database } from "../../src/db/database.js";
import { dayPartitions, ensureTelemetryPartitions } from "../../src/lifecycle/partitions.js";
import { expireTelemetry, type RetentionDefaults } from "../../src/lifecycle/retention.js";
import { lotParameters } from "../../src/lots/lot.queries.js";
import type { LotRow } from "../../src/lots/lot.service.js";
import { runRollups } from "../../src/lifecycle/rollups.js";
import { createLogger } from "../../src/log/logger.js";
import { bucketSeries } from "../../src/telemetry/telemetry.queries.js";
import { parseConfig } from "../../src/config.js";
import { startHub } from "../../src/hub.js";
import { createPgliteDatabase, createTestDatabase } from "../support/database.js";
import { eventually } from "../support/graphql.js";
import { TEST_REDIS_URL } from "../support/services.js";

/**
 * Retention end to end on both engines: raw readings past their retention go (whole day
 * partitions, rows for a shorter per-point retention), rollups stay for their own retention,
 * a held lot's readings and rollups survive, and the run is audited.
 */

const DAY = 86_400_000;
const now = new Date(Math.floor(Date.now() / DAY) * DAY + 12 * 3_600_000); // noon today, UTC
const daysAgo = (days: number, minutes = 0) => new Date(now.getTime() - days * DAY + minutes * 60_000);
/** Fallbacks the plant file's site policy overrides. */
const defaults: RetentionDefaults = { rawDays: 1000, minuteDays: 1000, hourDays: 1000 };

const enterprise = `rt${randomBytes(3).toString("hex")}`;
const machinePath = `${enterprise}/site-1/area-1/line-1/mixer-1`;
const plant = stringify({
  enterprise,
  sites: [
    {
      name: "site-1",
      retention: { rawDays: 10, minuteDays: 30, hourDays: 365 },
      areas: [{ name: "area-1", lines: [{ name: "line-1", machines: [{ name: "mixer-1", dataPoints: [
        { name: "temperature" },
        { name: "speed", retention: { rawDays: 5 } },
      ] }] }] }],
    },
  ],
});

const engines = [
  ["PostgreSQL", async () => { const t = await createTestDatabase("lifecycle"); return { database: t.database, close: t.drop }; }],
  ["PGlite", async () => { const database = await createPgliteDatabase(); return { database, close: () => database.close() }; }],
] as const;

describe.each(engines)("telemetry lifecycle on %s", (_engine, open) => {
  let database: Database;
  let close: () => Promise<void>;
  const points = {} as Record<"temperature" | "speed", number>;
  let heldLotId: number;
  let shortHeldLotId: number;
  /** A lot of minutes 0 to 10, seven days ago: not held. */
  let weekOldLot: LotRow;

  const count = async (sql: string, params: unknown[] = []) => (await database.query<{ n: number }>(sql, params)).rows[0]!.n;
  const rawCount = (point: number, from: Date, to: Date) =>
    count(`select count(*)::int as n from telemetry where data_point_id = $1 and ts >= $2 and ts < $3`, [point, from.toISOString(), to.toISOString()]);

  beforeAll(async () => {
    ({ database, close } = await open());
    await applyPlantText(database, plant, "retention.yaml", createLogger("silent"));
    const machine = (await machineByPath(database.db, machinePath))!;
    const { rows } = await database.query<{ id: number; name: "temperature" | "speed" }>(`select id, name from data_point where machine_id = $1`, [machine.id]);
    for (const row of rows) points[row.name] = row.id;
    // The hub made each day's partition ahead as those days came.
    for (const days of [40, 20, 7, 2]) await ensureTelemetryPartitions(database.db, daysAgo(days), 0);

    // Three readings a minute for ten minutes on each day, for both points.
    const rows_: [number, Date, number][] = [];
    for (const days of [40, 20, 7, 2]) {
      for (let minute = 0; minute < 10; minute++) {
        for (const second of [0, 20, 40]) {
          for (const point of Object.values(points)) rows_.push([point, new Date(daysAgo(days, minute).getTime() + second * 1000), minute * 10 + second / 20]);
        }
      }
    }
    await database.query(
      `insert into telemetry (data_point_id, ts, value) select * from unnest($1::int4[], $2::timestamptz[], $3::float8[])`,
      [rows_.map((r) => r[0]), rows_.map((r) => r[1].toISOString()), rows_.map((r) => r[2])],
    );
    // A lot on hold that ran for five minutes 20 days ago, and one not held 40 days ago.
    const [held] = await database.db
      .insert(lots)
      .values({ code: "L-HELD", machineId: machine.id, machinePath, status: "ended", startedAt: daysAgo(20, 2), endedAt: daysAgo(20, 7), startedBy: "test", endedBy: "test", onHold: true, holdReason: "complaint" })
      .returning();
    heldLotId = held!.id;
    [weekOldLot] = await database.db
      .insert(lots)
      .values({ code: "L-WEEK", machineId: machine.id, machinePath, status: "ended", startedAt: daysAgo(7), endedAt: daysAgo(7, 10), startedBy: "test", endedBy: "test" })
      .returning() as [LotRow];
    // A held lot whose window starts exactly on a reading, in a partition that stays (row deletes).
    const [shortHeld] = await database.db
      .insert(lots)
      .values({ code: "L-HELD-7", machineId: machine.id, machinePath, status: "ended", startedAt: daysAgo(7, 5), endedAt: daysAgo(7, 6), startedBy: "test", endedBy: "test", onHold: true, holdReason: "sample" })
      .returning();
    shortHeldLotId = shortHeld!.id;
    await database.db.insert(lots).values({ code: "L-FREE", machineId: machine.id, machinePath, status: "ended", startedAt: daysAgo(40, 2), endedAt: daysAgo(40, 7), startedBy: "test", endedBy: "test" });
  });

  afterAll(async () => {
    await close?.();
  });

  it("rolls readings up per minute and hour, with min, max, avg, count and last", async () => {
    const run = await runRollups(database, now);
    expect(run.minuteUpTo).toEqual(now);
    const { rows } = await database.query<{ min: number; max: number; sum: number; count: number; last_value: number }>(
      `select min, max, sum, count, last_value from telemetry_rollup_1m where data_point_id = $1 and bucket = $2`,
      [points.temperature, daysAgo(7, 3).toISOString()],
    );
    expect(rows).toEqual([{ min: 30, max: 32, sum: 93, count: 3, last_value: 32 }]);
    const hour = await database.query<{ count: number; min: number; max: number; last_value: number }>(
      `select count, min, max, last_value from telemetry_rollup_1h where data_point_id = $1 and bucket = $2`,
      [points.temperature, daysAgo(7).toISOString()],
    );
    expect(hour.rows).toEqual([{ count: 30, min: 0, max: 92, last_value: 92 }]);

    // Idempotent: a second run recomputes the same buckets to the same values.
    await runRollups(database, now);
    expect(await count(`select count(*)::int as n from telemetry_rollup_1m where data_point_id = $1`, [points.temperature])).toBe(40);
    expect(await count(`select sum(count)::int as n from telemetry_rollup_1h where data_point_id = $1`, [points.temperature])).toBe(120);
  });

  it("serves hourly series from the rollups up to their watermark and from raw readings after it", async () => {
    // Readings after the watermark (noon): only the raw table has them.
    for (const [minutes, value] of [[30, 5], [31, 7], [32, 6]] as const) {
      await database.query(`insert into telemetry (data_point_id, ts, value, quality) values ($1, $2, $3, 1)`, [points.temperature, daysAgo(0, minutes).toISOString(), value]);
    }
    const statements: string[] = [];
    const recording = { ...database, query: ((text: string, params?: unknown[]) => (statements.push(text), database.query(text, params))) as Database["query"] };
    const series = await bucketSeries(recording, points.temperature, { from: daysAgo(3), to: daysAgo(0, 120), bucketSeconds: 3600 });
    expect(series.map((p) => ({ ts: p.ts, count: p.count, min: p.min, max: p.max, value: p.value, quality: p.quality }))).toEqual([
      { ts: daysAgo(2), count: 30, min: 0, max: 92, value: 46, quality: "good" },
      { ts: daysAgo(0), count: 3, min: 5, max: 7, value: 6, quality: "uncertain" },
    ]);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain("telemetry_rollup_1h");
  });

  it("expires raw readings by partition and row, keeps rollups for longer, and never touches a held lot", async () => {
    const before = (await dayPartitions(database.db)).map((p) => p.name);
    const run = await expireTelemetry(database, defaults, now);

    // The site keeps raw readings 10 days: the 40- and 20-day-old partitions are dropped whole.
    const dropped = run.droppedPartitions.map((p) => p.name);
    expect(dropped).toEqual(before.filter((name) => name <= partitionName(daysAgo(10))));
    expect(dropped).toContain(partitionName(daysAgo(40)));
    expect(run.droppedPartitions.find((p) => p.name === partitionName(daysAgo(40)))?.rows).toBe(60);
    expect(await rawCount(points.temperature, daysAgo(41), daysAgo(10))).toBe(0);
    // Speed keeps 5 days: its 7-day-old rows go by row, but for the held minute 5:00 to 6:00
    // (both ends included); temperature's all stay.
    expect(await rawCount(points.speed, daysAgo(8), daysAgo(6))).toBe(4);
    expect(await rawCount(points.speed, daysAgo(7, 5), daysAgo(7, 6.01))).toBe(4);
    expect(await rawCount(points.temperature, daysAgo(8), daysAgo(6))).toBe(30);
    expect(run.rawRowsDeleted).toBe(26);
    expect(await rawCount(points.speed, daysAgo(3), now)).toBe(30);

    // The held lot's window (minutes 2 to 7, both points) was copied out before its partition went.
    expect(run.heldRowsCopied).toBe(2 * (5 * 3 + 1));
    expect(await count(`select count(*)::int as n from telemetry_held where ts >= $1 and ts <= $2`, [daysAgo(20, 2).toISOString(), daysAgo(20, 7).toISOString()])).toBe(32);
    expect(run.holdsKept).toEqual([{ lotId: heldLotId, code: "L-HELD" }, { lotId: shortHeldLotId, code: "L-HELD-7" }]);

    // Minute rollups live 30 days: the 40-day-old ones go, the held window's and newer stay.
    expect(await count(`select count(*)::int as n from telemetry_rollup_1m where bucket < $1`, [daysAgo(30).toISOString()])).toBe(0);
    expect(await count(`select count(*)::int as n from telemetry_rollup_1m where bucket >= $1 and bucket < $2`, [daysAgo(20).toISOString(), daysAgo(19).toISOString()])).toBe(20);
    // Hour rollups live 365 days: all kept, and daily series of expired days still come from them.
    expect(await count(`select count(*)::int as n from telemetry_rollup_1h`)).toBe(8);
    // Speed's raw readings of a week ago are gone; the lot's parameters come from the minute rollups.
    expect(await lotParameters(database.db, weekOldLot)).toEqual([
      { dataPointId: points.speed, name: "speed", unit: null, count: 30, min: 0, max: 92, avg: 46, first: 0, last: 92 },
      { dataPointId: points.temperature, name: "temperature", unit: null, count: 30, min: 0, max: 92, avg: 46, first: 0, last: 92 },
    ]);
    const expiredDay = await bucketSeries(database, points.temperature, { from: daysAgo(40, -720), to: daysAgo(39, -720), bucketSeconds: 86_400 });
    expect(expiredDay.map((p) => [p.count, p.min, p.max])).toEqual([[30, 0, 92]]);

    const { rows } = await database.query<{ actor: string; new_value: Record<string, any> }>(`select actor, new_value from audit_entry where action = 'telemetry.expired'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.actor).toBe("system:retention");
    expect(rows[0]!.new_value.droppedPartitions).toEqual(run.droppedPartitions);
    expect(rows[0]!.new_value.holdsKept).toEqual(run.holdsKept);
  });

  it("a second run expires only a late reading of a dropped day (in the default partition), and is audited too", async () => {
    await database.query(`insert into telemetry (data_point_id, ts, value) values ($1, $2, 1)`, [points.temperature, daysAgo(40, 30).toISOString()]);
    expect(await count(`select count(*)::int as n from telemetry_default`)).toBe(1);
    const run = await expireTelemetry(database, defaults, now);
    expect(run).toMatchObject({ droppedPartitions: [], rawRowsDeleted: 1, minuteRowsDeleted: 0, hourRowsDeleted: 0, heldRowsCopied: 0 });
    expect(await count(`select count(*)::int as n from telemetry_default`)).toBe(0);
    expect(await count(`select count(*)::int as n from audit_entry where action = 'telemetry.expired'`)).toBe(2);
    expect(await count(`select count(*)::int as n from telemetry_held`)).toBe(32);
  });
});

function partitionName(day: Date): string {
  return `telemetry_p${day.toISOString().slice(0, 10).replaceAll("-", "")}`;
}

describe("retention policies from the plant file", () => {
  it("are created, kept on a re-apply, changed and removed with the file, each change audited", async () => {
    const testDb = await createTestDatabase("retention_policy");
    try {
      const { database } = testDb;
      const log = createLogger("silent");
      const policies = async () =>
        (await database.query<{ scope: string; raw_days: number | null; minute_days: number | null; hour_days: number | null }>(
          `select case when site_id is null then 'point' else 'site' end as scope, raw_days, minute_days, hour_days from retention_policy order by 1`,
        )).rows;
      const audits = async () => (await database.query<{ n: number }>(`select count(*)::int as n from audit_entry where action = 'retention.changed'`)).rows[0]!.n;

      const first = await applyPlantText(database, plant, "retention.yaml", log);
      expect(await policies()).toEqual([
        { scope: "point", raw_days: 5, minute_days: null, hour_days: null },
        { scope: "site", raw_days: 10, minute_days: 30, hour_days: 365 },
      ]);
      expect(await audits()).toBe(2);
      expect(first.created).toBeGreaterThan(0);

      const again = await applyPlantText(database, plant, "retention.yaml", log);
      expect(again).toMatchObject({ created: 0, updated: 0, deleted: 0 });
      expect(await audits()).toBe(2);

      const changed = plant.replace("rawDays: 10", "rawDays: 20").replace(/\n\s+retention:\n\s+rawDays: 5/, "");
      expect(changed).not.toBe(plant);
      const third = await applyPlantText(database, changed, "retention.yaml", log);
      expect(third).toMatchObject({ updated: 1, deleted: 1 });
      expect(await policies()).toEqual([{ scope: "site", raw_days: 20, minute_days: 30, hour_days: 365 }]);
      expect(await audits()).toBe(4);
    } finally {
      await testDb.drop();
    }
  });
});

describe("the maintenance queue", () => {
  it("runs the rollup, expiry and partition jobs on their schedules", async () => {
    const testDb = await createTestDatabase("lifecycle_jobs");
    const config = parseConfig({
      NODE_ENV: "test",
      DATABASE_URL: testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      JOBS_PREFIX: `lifecycle${randomBytes(3).toString("hex")}`,
      SIMULATOR: "false",
      LOG_LEVEL: "silent",
      ROLLUP_EVERY_SECONDS: "1",
      RETENTION_EVERY_SECONDS: "1",
    });
    const { database } = testDb;
    await database.query(`insert into telemetry (data_point_id, ts, value) values (1, now() - interval '10 minutes', 1)`);
    // A partition the job must make again: tomorrow's, dropped (it is empty).
    const tomorrow = partitionName(new Date(Date.now() + DAY));
    const hub = await startHub({ config, roles: ["worker"], log: createLogger("silent") });
    try {
      await database.query(`drop table ${tomorrow}`);
      const seen = (sql: string) => async () => ((await database.query<{ n: number }>(sql)).rows[0]!.n > 0 ? true : undefined);
      await eventually(seen(`select count(*)::int as n from telemetry_rollup_1m`), "a minute rollup");
      await eventually(seen(`select count(*)::int as n from audit_entry where action = 'telemetry.expired'`), "an audited expiry run");
      await eventually(seen(`select count(*)::int as n from pg_class where relname = '${tomorrow}'`), "tomorrow's partition made again");
    } finally {
      await hub.stop();
      await testDb.drop();
    }
  });
});
