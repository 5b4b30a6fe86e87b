import type { MachineState } from "../../schema/db/availability.js";
import type { DbOrTx } from "../db/database.js";
import { rawSql } from "../db/raw-sql.js";
import { DAY, HOUR, MINUTE, bucketStart, splitByGrain } from "./buckets.js";
import type { StateTransition } from "./state-engine.js";

/** An interval as stored. Times in epoch ms; `endedAt` undefined while open. */
export interface StateInterval {
  id: number;
  machineId: number;
  state: MachineState;
  reason: string;
  source: string;
  startedAt: number;
  endedAt?: number;
  confirmedUntil?: number;
}

const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;
const ms = (value: unknown) => (value === null || value === undefined ? undefined : new Date(value as string | Date).getTime());

type IntervalRow = { id: string | number; machine_id: number; state: MachineState; reason: string; source: string; started_at: Date; ended_at: Date | null; confirmed_until: Date | null };
const toInterval = (r: IntervalRow): StateInterval => ({
  id: Number(r.id),
  machineId: r.machine_id,
  state: r.state,
  reason: r.reason,
  source: r.source,
  startedAt: ms(r.started_at)!,
  endedAt: ms(r.ended_at),
  confirmedUntil: ms(r.confirmed_until),
});

export async function openIntervals(db: DbOrTx, machineIds?: readonly number[]): Promise<StateInterval[]> {
  const filter = machineIds ? "and machine_id = any($1::int4[])" : "";
  const result = await db.execute(rawSql(`select * from machine_state_interval where ended_at is null ${filter}`, machineIds ? [machineIds] : []));
  return rows<IntervalRow>(result).map(toInterval);
}

/**
 * Writes transitions in time order: the open interval ends where the next begins, so a machine's
 * intervals tile time. A transition at the open interval's own start replaces its state; one
 * older than that is stale and skipped. Closed intervals go into the rollups in the same
 * transaction. Returns the intervals opened.
 */
export async function applyTransitions(tx: DbOrTx, transitions: readonly StateTransition[], minorStopSeconds: (machineId: number) => number | undefined = () => undefined): Promise<StateInterval[]> {
  if (transitions.length === 0) return [];
  const ids = [...new Set(transitions.map((t) => t.machineId))];
  const open = new Map(
    rows<IntervalRow>(await tx.execute(rawSql(`select * from machine_state_interval where ended_at is null and machine_id = any($1::int4[]) for update`, [ids]))).map((r) => [r.machine_id, toInterval(r)]),
  );
  const opened: StateInterval[] = [];
  const closed: StateInterval[] = [];
  for (const t of [...transitions].sort((a, b) => a.at - b.at)) {
    const current = open.get(t.machineId);
    if (current && t.at < current.startedAt) continue;
    let interval: StateInterval;
    if (current && t.at === current.startedAt) {
      // A second change at one instant: the open interval takes the new state, or, when that is the
      // state of the interval before it, goes away and the one before it is open again.
      const [before] = rows<IntervalRow>(await tx.execute(rawSql(`select * from machine_state_interval where machine_id = $1 and ended_at = to_timestamp($2 / 1000.0) for update`, [t.machineId, t.at])));
      if (before && before.state === t.state && before.reason === t.reason) {
        await tx.execute(rawSql(`delete from machine_state_interval where id = $1`, [current.id]));
        await tx.execute(rawSql(`update machine_state_interval set ended_at = null where id = $1`, [before.id]));
        const reopened = toInterval(before);
        await addStateRollups(tx, [{ ...reopened, sign: -1 }]);
        interval = { ...reopened, endedAt: undefined };
      } else {
        await tx.execute(rawSql(`update machine_state_interval set state = $2, reason = $3, source = $4 where id = $1`, [current.id, t.state, t.reason, t.source]));
        interval = { ...current, state: t.state, reason: t.reason, source: t.source };
      }
    } else {
      if (current) {
        // A short breakdown is a minor stop: a speed loss (idle), not unit down time.
        const threshold = minorStopSeconds(current.machineId);
        const minor = current.state === "down" && threshold !== undefined && t.at - current.startedAt < threshold * 1000;
        const ended = minor ? { ...current, state: "idle" as const, reason: "minor_stop" } : current;
        await tx.execute(rawSql(`update machine_state_interval set ended_at = to_timestamp($2 / 1000.0), confirmed_until = null, state = $3, reason = $4 where id = $1`, [current.id, t.at, ended.state, ended.reason]));
        closed.push({ ...ended, endedAt: t.at });
      }
      const [row] = rows<IntervalRow>(
        await tx.execute(
          rawSql(`insert into machine_state_interval (machine_id, state, reason, source, started_at) values ($1, $2, $3, $4, to_timestamp($5 / 1000.0)) returning *`, [t.machineId, t.state, t.reason, t.source, t.at]),
        ),
      );
      interval = toInterval(row!);
    }
    open.set(t.machineId, interval);
    const previous = opened.findIndex((o) => o.machineId === t.machineId);
    if (previous >= 0) opened.splice(previous, 1);
    opened.push(interval);
  }
  await addStateRollups(tx, closed.map((c) => ({ ...c, sign: 1 })));
  return opened;
}

/** Adds (sign 1) or removes (sign −1) closed intervals' seconds to the hour and day rollups. */
export async function addStateRollups(tx: DbOrTx, intervals: readonly (Pick<StateInterval, "machineId" | "state" | "reason" | "startedAt" | "endedAt"> & { sign: 1 | -1 })[]): Promise<void> {
  const sums = new Map<string, { machineId: number; grain: number; bucket: number; state: string; reason: string; seconds: number }>();
  for (const i of intervals) {
    if (i.endedAt === undefined) continue;
    for (const grain of [HOUR, DAY]) {
      for (const { bucket, seconds } of splitByGrain(i.startedAt, i.endedAt, grain)) {
        const key = `${i.machineId}|${grain}|${bucket}|${i.state}|${i.reason}`;
        const entry = sums.get(key) ?? { machineId: i.machineId, grain, bucket, state: i.state, reason: i.reason, seconds: 0 };
        entry.seconds += seconds * i.sign;
        sums.set(key, entry);
      }
    }
  }
  if (sums.size === 0) return;
  const list = [...sums.values()];
  // The machines' rollups, then their lines' (summed over the line's machines in this batch).
  await tx.execute(
    rawSql(
      `with u as (select * from unnest($1::int4[], $2::int4[], $3::float8[], $4::text[], $5::text[], $6::float8[]) as u(m, g, b, s, r, v)),
       machine_rows as (
         insert into machine_state_rollup (machine_id, grain_seconds, bucket, state, reason, seconds)
         select m, g, to_timestamp(b / 1000.0), s, r, v from u
         on conflict (machine_id, grain_seconds, bucket, state, reason) do update set seconds = machine_state_rollup.seconds + excluded.seconds)
       insert into line_state_rollup (line_id, grain_seconds, bucket, state, reason, seconds)
       select machine.line_id, g, to_timestamp(b / 1000.0), s, r, sum(v) from u join machine on machine.id = u.m group by 1, 2, 3, 4, 5
       on conflict (line_id, grain_seconds, bucket, state, reason) do update set seconds = line_state_rollup.seconds + excluded.seconds`,
      [list.map((e) => e.machineId), list.map((e) => e.grain), list.map((e) => e.bucket), list.map((e) => e.state), list.map((e) => e.reason), list.map((e) => e.seconds)],
    ),
  );
}

/** Production at a time, attributed to a product, with its ideal seconds (ideal cycle × produced). */
export interface ProductionIncrement {
  machineId: number;
  at: number;
  product: string;
  produced: number;
  good: number;
  scrap: number;
  idealSeconds: number;
}

/** Adds production to the minute, hour and day buckets in one statement. */
export async function recordProduction(tx: DbOrTx, increments: readonly ProductionIncrement[]): Promise<void> {
  const sums = new Map<string, { machineId: number; grain: number; bucket: number; product: string; produced: number; good: number; scrap: number; ideal: number }>();
  for (const inc of increments) {
    for (const grain of [MINUTE, HOUR, DAY]) {
      const bucket = bucketStart(inc.at, grain);
      const key = `${inc.machineId}|${grain}|${bucket}|${inc.product}`;
      const entry = sums.get(key) ?? { machineId: inc.machineId, grain, bucket, product: inc.product, produced: 0, good: 0, scrap: 0, ideal: 0 };
      entry.produced += inc.produced;
      entry.good += inc.good;
      entry.scrap += inc.scrap;
      entry.ideal += inc.idealSeconds;
      sums.set(key, entry);
    }
  }
  if (sums.size === 0) return;
  const list = [...sums.values()];
  await tx.execute(
    rawSql(
      `with u as (select * from unnest($1::int4[], $2::int4[], $3::float8[], $4::text[], $5::float8[], $6::float8[], $7::float8[], $8::float8[]) as u(m, g, b, p, q, gq, sq, i)),
       machine_rows as (
         insert into production_count (machine_id, grain_seconds, bucket, product, produced, good, scrap, ideal_seconds)
         select m, g, to_timestamp(b / 1000.0), p, q, gq, sq, i from u
         on conflict (machine_id, grain_seconds, bucket, product) do update set
           produced = production_count.produced + excluded.produced, good = production_count.good + excluded.good,
           scrap = production_count.scrap + excluded.scrap, ideal_seconds = production_count.ideal_seconds + excluded.ideal_seconds)
       insert into line_production_count (line_id, grain_seconds, bucket, produced, good, scrap, ideal_seconds)
       select machine.line_id, g, to_timestamp(b / 1000.0), sum(q), sum(gq), sum(sq), sum(i) from u join machine on machine.id = u.m group by 1, 2, 3
       on conflict (line_id, grain_seconds, bucket) do update set
         produced = line_production_count.produced + excluded.produced, good = line_production_count.good + excluded.good,
         scrap = line_production_count.scrap + excluded.scrap, ideal_seconds = line_production_count.ideal_seconds + excluded.ideal_seconds`,
      [list.map((e) => e.machineId), list.map((e) => e.grain), list.map((e) => e.bucket), list.map((e) => e.product), list.map((e) => e.produced), list.map((e) => e.good), list.map((e) => e.scrap), list.map((e) => e.ideal)],
    ),
  );
}

/** Records that the open intervals still held at `at`: after a crash they end there. */
export async function confirmOpenIntervals(db: DbOrTx, machineIds: readonly number[], at: number): Promise<void> {
  if (machineIds.length === 0) return;
  await db.execute(rawSql(`update machine_state_interval set confirmed_until = to_timestamp($2 / 1000.0) where ended_at is null and machine_id = any($1::int4[]) and started_at < to_timestamp($2 / 1000.0)`, [machineIds, at]));
}

/** Sets an interval's reason (an operator's downtime reason), moving its seconds in the rollups. */
export async function setIntervalReason(tx: DbOrTx, intervalId: number, reason: string): Promise<StateInterval | undefined> {
  const [row] = rows<IntervalRow>(await tx.execute(rawSql(`select * from machine_state_interval where id = $1 for update`, [intervalId])));
  if (!row) return undefined;
  const before = toInterval(row);
  await tx.execute(rawSql(`update machine_state_interval set reason = $2 where id = $1`, [intervalId, reason]));
  const after = { ...before, reason };
  await addStateRollups(tx, [{ ...before, sign: -1 }, { ...after, sign: 1 }]);
  return after;
}

/** A machine's intervals overlapping [from, to), oldest first. */
export async function intervalsBetween(db: DbOrTx, machineId: number, from: number, to: number, limit: number): Promise<StateInterval[]> {
  const result = await db.execute(
    rawSql(
      `select * from (
         (select * from machine_state_interval where machine_id = $1 and started_at <= to_timestamp($2 / 1000.0) order by started_at desc limit 1)
         union all
         (select * from machine_state_interval where machine_id = $1 and started_at > to_timestamp($2 / 1000.0) and started_at < to_timestamp($3 / 1000.0) order by started_at limit $4)
       ) i where ended_at is null or ended_at > to_timestamp($2 / 1000.0) order by started_at limit $4`,
      [machineId, from, to, limit],
    ),
  );
  return rows<IntervalRow>(result).map(toInterval);
}

export async function intervalById(db: DbOrTx, id: number): Promise<StateInterval | undefined> {
  const [row] = rows<IntervalRow>(await db.execute(rawSql(`select * from machine_state_interval where id = $1`, [id])));
  return row && toInterval(row);
}
