import http from "node:http";
import { createApiKey } from "../src/auth/api-key.service.js";
import { createAuthenticator } from "../src/auth/authenticator.js";
import { parseConfig } from "../src/config.js";
import { globalId } from "../src/graphql/relay/node.type.js";
import { startHttpServer } from "../src/http/server.js";
import { createLogger } from "../src/log/logger.js";
import { createHubPubSub } from "../src/pubsub/pubsub.js";
import { LatestValues } from "../src/telemetry/latest-values.js";
import { createTestDatabase } from "../test/support/database.js";
import { percentile, ratio, roundOrder } from "./support.js";

/**
 * KPIs and capacity over 30 days for a site (1,000 machines), a line (20) and a machine, through
 * the real GraphQL API over HTTP, beside a hand-written SQL query computing the same availability
 * straight from the state intervals, in the same run. Seeded with raw SQL: 30 days of state
 * intervals (16 a day per machine, two shifts on weekdays), their hour and day rollups per machine
 * and per line, production counts and two orders per machine. Tunables: BENCH_ROUNDS (requests per query kind).
 */

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const AREAS = 5;
const LINES_PER_AREA = 10;
const MACHINES_PER_LINE = 20;
const DAYS = 30;
const log = createLogger(process.env.BENCH_LOG_LEVEL ?? "silent");
const HOUR = 3_600_000;

const db = await createTestDatabase("bench_kpi");
const pubsub = createHubPubSub();
let server: Awaited<ReturnType<typeof startHttpServer>> | undefined;
try {
  const q = db.database.query;
  const now = Date.now();
  const start = Math.floor((now - DAYS * 86_400_000) / HOUR) * HOUR;
  const seeded = performance.now();
  const { rows: site } = await q<{ id: number }>(`with e as (insert into enterprise (name) values ('bench') returning id) insert into site (enterprise_id, name, timezone) select id, 'plant', 'Europe/Berlin' from e returning id`);
  const siteId = site[0]!.id;
  await q(`insert into area (site_id, name) select $1, 'area-' || a from generate_series(1, $2) a`, [siteId, AREAS]);
  await q(`insert into line (area_id, name) select a.id, 'line-' || l from area a, generate_series(1, $1) l`, [LINES_PER_AREA]);
  await q(
    `insert into machine (line_id, name, path)
     select l.id, 'm-' || m, 'bench/plant/' || a.name || '/' || l.name || '/m-' || m from line l join area a on a.id = l.area_id, generate_series(1, $1) m`,
    [MACHINES_PER_LINE],
  );
  const calendar = { shifts: [{ name: "early", start: "06:00", end: "14:00", breaks: [{ start: "10:00", end: "10:30" }] }, { name: "late", start: "14:00", end: "22:00", breaks: [{ start: "18:00", end: "18:30" }] }] };
  await q(`insert into shift_calendar (site_id, spec) values ($1, $2)`, [siteId, JSON.stringify(calendar)]);
  await q(`insert into machine_state_config (machine_id, config) select id, '{"idealCycleSeconds": 10, "products": {"widget": 10}}' from machine`);

  // Every 3 hours: running for 100-160 minutes, then a stop of the rest; the last interval stays open.
  await q(
    `insert into machine_state_interval (machine_id, state, reason, source, started_at, ended_at)
     select m.id, s.state, s.reason, 'bench', s.started_at, case when s.started_at + s.length >= to_timestamp($2 / 1000.0) then null else s.started_at + s.length end
       from machine m
       cross join generate_series(0, $3 * 8 - 1) b
       cross join lateral (
         select to_timestamp($1 / 1000.0) + b * interval '3 hours' as block, (100 + (m.id * 7 + b * 13) % 61) * interval '1 minute' as run) r
       cross join lateral (values
         ('running', '', r.block, r.run),
         ((array['idle', 'down', 'setup', 'maintenance', 'planned_stop'])[1 + (m.id + b) % 5], (array['', 'jam', '', 'task', 'break'])[1 + (m.id + b) % 5], r.block + r.run, interval '3 hours' - r.run)
       ) s(state, reason, started_at, length)
      where s.started_at < to_timestamp($2 / 1000.0)`,
    [start, now, DAYS],
  );
  // Rollups of the closed intervals, as the tracker keeps them.
  await q(
    `insert into machine_state_rollup (machine_id, grain_seconds, bucket, state, reason, seconds)
     select i.machine_id, g.grain, b.bucket, i.state, i.reason,
            sum(extract(epoch from least(i.ended_at, b.bucket + make_interval(secs => g.grain)) - greatest(i.started_at, b.bucket)))
       from machine_state_interval i
       cross join (values (3600), (86400)) g(grain)
       cross join lateral generate_series(to_timestamp(floor(extract(epoch from i.started_at) / g.grain) * g.grain), i.ended_at - interval '1 microsecond', make_interval(secs => g.grain)) b(bucket)
      where i.ended_at is not null
      group by 1, 2, 3, 4, 5`,
  );
  // Production: minute buckets at the query edges, hours and days everywhere.
  await q(
    `insert into production_count (machine_id, grain_seconds, bucket, product, produced, good, scrap, ideal_seconds)
     select m.id, 3600, h, 'widget', 300, 294, 6, 3000 from machine m, generate_series(to_timestamp($1 / 1000.0), to_timestamp($2 / 1000.0), interval '1 hour') h
     union all
     select m.id, 86400, d, 'widget', 7200, 7056, 144, 72000 from machine m, generate_series(date_bin('1 day', to_timestamp($1 / 1000.0), 'epoch'), to_timestamp($2 / 1000.0), interval '1 day') d
     union all
     select m.id, 60, date_bin('1 minute', to_timestamp($1 / 1000.0), 'epoch') + k * interval '1 minute', 'widget', 5, 5, 0, 50 from machine m, generate_series(0, 59) k
     union all
     select m.id, 60, date_bin('1 minute', to_timestamp($2 / 1000.0), 'epoch') - k * interval '1 minute', 'widget', 5, 5, 0, 50 from machine m, generate_series(0, 59) k`,
    [start, now],
  );
  // The line rollups, as the tracker keeps them beside the machines'.
  await q(
    `insert into line_state_rollup (line_id, grain_seconds, bucket, state, reason, seconds)
     select m.line_id, r.grain_seconds, r.bucket, r.state, r.reason, sum(r.seconds) from machine_state_rollup r join machine m on m.id = r.machine_id group by 1, 2, 3, 4, 5`,
  );
  await q(
    `insert into line_production_count (line_id, grain_seconds, bucket, produced, good, scrap, ideal_seconds)
     select m.line_id, c.grain_seconds, c.bucket, sum(c.produced), sum(c.good), sum(c.scrap), sum(c.ideal_seconds) from production_count c join machine m on m.id = c.machine_id group by 1, 2, 3`,
  );
  await q(
    `insert into production_order (number, product, quantity, due_at, machine_id, sequence)
     select 'o-' || m.id || '-' || k, 'widget', 2000, now() + k * interval '1 day', m.id, k from machine m, generate_series(1, 2) k`,
  );
  await q(`analyze`);
  const { rows: counts } = await q<{ n: string }>(`select count(*) as n from machine_state_interval`);
  console.error(`kpi: seeded ${counts[0]!.n} state intervals of 1,000 machines over ${DAYS} days in ${Math.round(performance.now() - seeded)} ms`);

  const config = parseConfig({ NODE_ENV: "production", PORT: "0", DATABASE_URL: db.url, RATE_LIMIT_PER_MINUTE: "1000000" });
  const deps = { config, database: db.database, pubsub: pubsub.pubsub, latest: new LatestValues(db.database, undefined), log, authenticator: createAuthenticator({ config, database: db.database, log }) };
  server = await startHttpServer({ config, deps, health: async () => ({}), log });
  const { key } = await createApiKey(db.database.db, { name: "bench", role: "planner", sites: null, createdBy: "bench" });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(server.url);

  const { rows: assets } = await q<{ line_id: number; machine_id: number }>(`select line_id, min(id) as machine_id from machine group by line_id order by line_id limit 1`);
  const lineId = assets[0]!.line_id;
  const machineId = Number(assets[0]!.machine_id);
  const idsOf = async (where: string) => (await q<{ id: number }>(`select id from machine where ${where}`)).rows.map((r) => r.id);
  const scopes = { site: { id: globalId("Site", siteId), machines: await idsOf("true") }, line: { id: globalId("Line", lineId), machines: await idsOf(`line_id = ${lineId}`) }, machine: { id: globalId("Machine", machineId), machines: [machineId] } };
  const from = new Date(now - DAYS * 86_400_000 + 1_234).toISOString();
  const to = new Date(now).toISOString();
  const inAWeek = new Date(now + 7 * 86_400_000).toISOString();

  const post = (body: string) =>
    new Promise<string>((resolve, reject) => {
      const req = http.request(url, { method: "POST", agent, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => (res.statusCode === 200 && !text.includes('"errors"') ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`))));
      });
      req.on("error", reject);
      req.end(body);
    });
  const KPIS = `query($a: ID!, $from: DateTime!, $to: DateTime!) { kpis(assetId: $a, from: $from, to: $to) { availability effectiveness qualityRatio oee plannedBusyTime actualProductionTime downtimeReasons { state reason seconds } } }`;
  const CAPACITY = `query($a: ID!, $to: DateTime!) { capacity(assetId: $a, from: "${to}", to: $to) { availableSeconds committedSeconds spareSeconds } }`;
  const SQL = `
    select sum(extract(epoch from least(coalesce(ended_at, $4), $3) - greatest(started_at, $2))) filter (where state = 'running')
         / nullif(sum(extract(epoch from least(coalesce(ended_at, $4), $3) - greatest(started_at, $2))) filter (where state <> 'planned_stop'), 0) as availability
      from machine_state_interval
     where machine_id = any($1::int4[]) and started_at < $3 and (ended_at is null or ended_at > $2)`;

  type Kind = `${"kpi" | "capacity" | "sql"}:${keyof typeof scopes}` | "floor";
  // floor: `{ __typename }` through the same HTTP, auth and GraphQL layers, the part no query can save.
  const kinds: Kind[] = [...(["site", "line", "machine"] as const).flatMap((s) => [`kpi:${s}`, `capacity:${s}`, `sql:${s}`] as Kind[]), "floor"];
  const answers = new Map<string, number>();
  const run = async (kind: Kind): Promise<number> => {
    const [what, scope] = kind.split(":") as ["kpi" | "capacity" | "sql" | "floor", keyof typeof scopes];
    const started = performance.now();
    if (what === "floor") await post(JSON.stringify({ query: "{ __typename }" }));
    else if (what === "sql") {
      const { rows } = await q<{ availability: number }>(SQL, [scopes[scope].machines, new Date(from), new Date(to), new Date(now)]);
      answers.set(`sql:${scope}`, Number(rows[0]!.availability));
    } else if (what === "kpi") {
      const text = await post(JSON.stringify({ query: KPIS, variables: { a: scopes[scope].id, from, to } }));
      answers.set(`kpi:${scope}`, (JSON.parse(text) as { data: { kpis: { availability: number } } }).data.kpis.availability);
    } else await post(JSON.stringify({ query: CAPACITY, variables: { a: scopes[scope].id, to: inAWeek } }));
    return performance.now() - started;
  };
  for (const kind of kinds) await run(kind); // warm-up
  const times = new Map<Kind, number[]>(kinds.map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) for (const kind of roundOrder(kinds, round)) times.get(kind)!.push(await run(kind));

  // The API cuts at its own now, a little after the SQL's: the same availability to within that.
  for (const scope of Object.keys(scopes)) {
    const [api, sql] = [answers.get(`kpi:${scope}`)!, answers.get(`sql:${scope}`)!];
    if (Math.abs(api - sql) > 1e-3) throw new Error(`${scope}: the API says availability ${api}, the SQL ${sql}`);
  }
  const stats = Object.fromEntries([...times].map(([k, v]) => [k, { p50: +percentile(v, 50).toFixed(1), p99: +percentile(v, 99).toFixed(1) }]));
  for (const [kind, s] of Object.entries(stats)) console.error(`kpi ${kind.padEnd(17)} p50 ${String(s.p50).padStart(7)} ms   p99 ${String(s.p99).padStart(7)} ms`);
  const value = stats["kpi:line"]!.p99;
  const baseline = stats["sql:line"]!.p99;
  console.log(
    JSON.stringify({
      bench: "kpi",
      value,
      unit: "ms p99 (line, 30 days, GraphQL over HTTP)",
      baseline,
      baseline_name: "hand-written SQL availability over the raw intervals, same line, p99",
      ratio: ratio(value, baseline),
      site: { api: stats["kpi:site"], sql: stats["sql:site"], capacity: stats["capacity:site"] },
      line: { api: stats["kpi:line"], sql: stats["sql:line"], capacity: stats["capacity:line"] },
      machine: { api: stats["kpi:machine"], sql: stats["sql:machine"], capacity: stats["capacity:machine"] },
      http_graphql_floor: stats.floor,
    }),
  );
  agent.destroy();
} finally {
  await server?.close();
  await pubsub.close();
  await db.drop();
}
