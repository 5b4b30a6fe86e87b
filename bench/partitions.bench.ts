import { parseConfig } from "../src/config.js";
import type { Database } from "../src/db/database.js";
import { createTestDatabase } from "../test/support/database.js";
import { median, ratio, roundOrder } from "./support.js";

/**
 * The telemetry hot path on the day-partitioned table against the same table unpartitioned, in
 * the same run: the writer's unnest insert, in its batch size, from as many connections as it
 * uses, in alternating rounds (order rotating), medians reported. Also the expiry of one day's
 * rows both ways: dropping its partition against deleting its rows. Tunables: BENCH_ROWS (per
 * round), BENCH_ROUNDS, BENCH_POINTS.
 */

const ROWS = Number(process.env.BENCH_ROWS ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const POINTS = Number(process.env.BENCH_POINTS ?? 500);
const { batchMax, writeConnections } = parseConfig({}).telemetry;

/** The telemetry writer's statement, aimed at either table. */
const insertInto = (table: string) => `
insert into ${table} (data_point_id, ts, value, quality)
select p, to_timestamp(t / 1000.0), v, q
from unnest($1::int4[], $2::float8[], $3::float8[], $4::int2[]) as u(p, t, v, q)`;

const DAY = 86_400_000;
/** Rounds write into the day after tomorrow (a partition made ahead), each its own milliseconds. */
const DAY_START = Math.floor(Date.now() / DAY) * DAY + 2 * DAY;

function batches(round: number): unknown[][] {
  const result: unknown[][] = [];
  for (let offset = 0; offset < ROWS; offset += batchMax) {
    const size = Math.min(batchMax, ROWS - offset);
    const points: number[] = [];
    const times: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < size; i++) {
      const n = offset + i;
      points.push(n % POINTS);
      times.push(DAY_START + round * Math.ceil(ROWS / POINTS) + Math.floor(n / POINTS));
      values.push(Math.random() * 100);
    }
    result.push([`{${points}}`, `{${times}}`, `{${values}}`, `{${points.map(() => 0)}}`]);
  }
  return result;
}

/** Rows per second for one round into `table`, `writeConnections` batches in flight. */
async function insertRate(database: Database, table: string, round: number): Promise<number> {
  const queue = batches(round);
  const statement = insertInto(table);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writeConnections }, async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) await database.query(statement, batch);
    }),
  );
  return ROWS / ((performance.now() - started) / 1000);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

const db = await createTestDatabase("bench_partitions");
try {
  const { database } = db;
  await database.query(`create table telemetry_plain (like telemetry including defaults, primary key (data_point_id, ts))`);
  const tables = ["telemetry", "telemetry_plain"] as const;
  const rates: Record<(typeof tables)[number], number[]> = { telemetry: [], telemetry_plain: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const table of roundOrder(tables, round)) rates[table].push(await insertRate(database, table, round));
    console.error(`partitions round ${round + 1}/${ROUNDS}: partitioned ${Math.round(rates.telemetry[round]!)}, plain ${Math.round(rates.telemetry_plain[round]!)} rows/s`);
  }
  const day = new Date(DAY_START).toISOString().slice(0, 10);
  const partition = `telemetry_p${day.replaceAll("-", "")}`;
  const dropMs = await timed(() => database.query(`drop table ${partition}`));
  const deleteMs = await timed(() => database.query(`delete from telemetry_plain where ts >= $1 and ts < $2`, [new Date(DAY_START).toISOString(), new Date(DAY_START + DAY).toISOString()]));
  const [partitioned, plain] = [median(rates.telemetry), median(rates.telemetry_plain)];
  console.error(`partitions: expiring ${ROWS * ROUNDS} rows of one day: drop partition ${Math.round(dropMs)} ms, delete rows ${Math.round(deleteMs)} ms`);
  console.log(
    JSON.stringify({
      bench: "partitions",
      value: Math.round(partitioned),
      unit: "rows/s",
      baseline: Math.round(plain),
      baseline_name: "the same unnest inserts into an unpartitioned telemetry table",
      ratio: ratio(partitioned, plain),
      expiry: { rows: ROWS * ROUNDS, dropPartitionMs: Math.round(dropMs), deleteRowsMs: Math.round(deleteMs) },
    }),
  );
} finally {
  await db.drop();
}
