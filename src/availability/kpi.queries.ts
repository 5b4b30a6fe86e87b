import { execute, type Database, type DbOrTx } from "../db/database.js";
import { rawSql } from "../db/raw-sql.js";
import { MINUTE, queryPlan } from "./buckets.js";
import type { CountTotals, StateSeconds } from "./kpi.js";

export interface MachineStateSeconds extends StateSeconds {
  machineId: number;
}

export const noCounts: CountTotals = { produced: 0, good: 0, scrap: 0, idealSeconds: 0 };

/** Counts of several machines added up. */
export function sumCounts(counts: Iterable<CountTotals>): CountTotals {
  const total = { ...noCounts };
  for (const c of counts) {
    total.produced += c.produced;
    total.good += c.good;
    total.scrap += c.scrap;
    total.idealSeconds += c.idealSeconds;
  }
  return total;
}

type Row = { kind: "s" | "c"; machine_id: number; state: StateSeconds["state"]; reason: string; seconds: number; produced: number; good: number; scrap: number; ideal: number };

/**
 * The KPI inputs of machines over [from, to), cut at `now` (the future is not known yet), in one
 * statement: seconds per state and reason, and produced, good, scrap and ideal seconds, per machine.
 *
 * States: whole days and hours come from the rollups of closed intervals; the open intervals over
 * that span and the sub-hour edges from the intervals themselves. Counts: minute buckets at the
 * edges (a minute counts when it starts inside the range), hours and days between. Given `lines`
 * (lines whose machines are exactly `machineIds`), the rolled-up states and all counts come from
 * the line rollups and carry machine 0: a 30-day line query reads a few hundred rows.
 *
 * Given the Database rather than a drizzle handle (the API's hot path, outside transactions), the
 * statement goes to the driver as a named prepared statement: no drizzle layer, no planning after
 * a connection's first run.
 */
export async function machineKpiInputs(db: DbOrTx | Database, machineIds: readonly number[], from: number, to: number, now: number, lines?: readonly number[]): Promise<{ states: MachineStateSeconds[]; counts: Map<number, CountTotals> }> {
  const end = Math.min(to, now);
  if (machineIds.length === 0 || end <= from) return { states: [], counts: new Map() };
  const plan = queryPlan(from, end);
  const [spanFrom, spanTo] = plan.rolledSpan ?? [0, 0];
  const minutes = plan.edges.map(([a, b]) => ({ grain: MINUTE, from: a, to: b }));
  const machineCountRanges = lines ? [] : [...minutes, ...plan.rolled];
  const lineCountRanges = lines ? [...minutes, ...plan.rolled] : [];
  const text = `with ids as (select unnest($1::int4[]) as id),
            edges as (select to_timestamp(a / 1000.0) as a, to_timestamp(b / 1000.0) as b from unnest($2::float8[], $3::float8[]) as e(a, b)),
            ranges as (select g, to_timestamp(a / 1000.0) as a, to_timestamp(b / 1000.0) as b from unnest($4::int4[], $5::float8[], $6::float8[]) as r(g, a, b)),
            span as (select to_timestamp($7 / 1000.0) as a, to_timestamp($8 / 1000.0) as b, to_timestamp($9 / 1000.0) as now),
            states as (
              select machine_id, state, reason, sum(seconds)::float8 as seconds from (
                ${rolledStates(lines !== undefined)}
                union all
                select ids.id, i.state, i.reason, extract(epoch from least(coalesce(i.ended_at, span.now), e.b) - greatest(i.started_at, e.a))::float8
                  from edges e cross join ids cross join span cross join lateral (
                    (select state, reason, started_at, ended_at from machine_state_interval where machine_id = ids.id and started_at <= e.a order by started_at desc limit 1)
                    union all
                    (select state, reason, started_at, ended_at from machine_state_interval where machine_id = ids.id and started_at > e.a and started_at < e.b)
                  ) i
                 where least(coalesce(i.ended_at, span.now), e.b) > greatest(i.started_at, e.a)
                union all
                select i.machine_id, i.state, i.reason, extract(epoch from least(span.now, span.b) - greatest(i.started_at, span.a))::float8
                  from machine_state_interval i cross join span
                 where i.ended_at is null and i.machine_id in (select id from ids) and least(span.now, span.b) > greatest(i.started_at, span.a)
              ) x group by machine_id, state, reason),
            counts as (
              select machine_id, sum(produced)::float8 as produced, sum(good)::float8 as good, sum(scrap)::float8 as scrap, sum(ideal_seconds)::float8 as ideal from (
                select c.machine_id, c.produced, c.good, c.scrap, c.ideal_seconds
                  from unnest($11::int4[], $12::float8[], $13::float8[]) as g(g, a, b)
                  join production_count c on c.grain_seconds = g.g and c.bucket >= to_timestamp(g.a / 1000.0) and c.bucket < to_timestamp(g.b / 1000.0)
                 where c.machine_id = any($1::int4[])
                union all
                select 0, c.produced, c.good, c.scrap, c.ideal_seconds
                  from unnest($14::int4[], $15::float8[], $16::float8[]) as g(g, a, b)
                  join line_production_count c on c.grain_seconds = g.g and c.bucket >= to_timestamp(g.a / 1000.0) and c.bucket < to_timestamp(g.b / 1000.0)
                 where c.line_id = any($10::int4[])
              ) y group by machine_id)
       select 's' as kind, machine_id, state, reason, seconds, 0::float8 as produced, 0::float8 as good, 0::float8 as scrap, 0::float8 as ideal from states
       union all
       select 'c', machine_id, null, null, 0, produced, good, scrap, ideal from counts`;
  const params = [
    machineIds,
    plan.edges.map((e) => e[0]),
    plan.edges.map((e) => e[1]),
    plan.rolled.map((r) => r.grain),
    plan.rolled.map((r) => r.from),
    plan.rolled.map((r) => r.to),
    spanFrom,
    spanTo,
    now,
    lines ?? [],
    machineCountRanges.map((r) => r.grain),
    machineCountRanges.map((r) => r.from),
    machineCountRanges.map((r) => r.to),
    lineCountRanges.map((r) => r.grain),
    lineCountRanges.map((r) => r.from),
    lineCountRanges.map((r) => r.to),
  ];
  const { rows } = "kind" in db ? await db.query<Row>(text, params, { name: lines ? "kpi_inputs_lines" : "kpi_inputs_machines" }) : await execute<Row>(db, rawSql(text, params));
  const states: MachineStateSeconds[] = [];
  const counts = new Map<number, CountTotals>();
  for (const r of rows) {
    if (r.kind === "s") states.push({ machineId: r.machine_id, state: r.state, reason: r.reason, seconds: Number(r.seconds) });
    else counts.set(r.machine_id, { produced: Number(r.produced), good: Number(r.good), scrap: Number(r.scrap), idealSeconds: Number(r.ideal) });
  }
  return { states, counts };
}

/** The closed intervals' seconds over the rolled-up ranges: from the machines' rollups, or their lines' ($10). */
function rolledStates(fromLines: boolean): string {
  return fromLines
    ? `select 0 as machine_id, r.state, r.reason, r.seconds
                  from ranges g join line_state_rollup r on r.grain_seconds = g.g and r.bucket >= g.a and r.bucket < g.b
                 where r.line_id = any($10::int4[])`
    : `select r.machine_id, r.state, r.reason, r.seconds
                  from ranges g join machine_state_rollup r on r.grain_seconds = g.g and r.bucket >= g.a and r.bucket < g.b
                 where r.machine_id in (select id from ids)`;
}
