import { randomBytes } from "node:crypto";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { connectors } from "../connectors/index.js";
import { JIRA_FAKE_DEFAULTS } from "../connectors/jira/fixtures/fake.js";
import { machineByPath } from "../src/assets/asset.queries.js";
import { applyPlantText } from "../src/assets/plant-apply.js";
import { saveAutomation } from "../src/automations/automation.service.js";
import { parseConfig } from "../src/config.js";
import { createIntegration } from "../src/integrations/integration.service.js";
import { actionQueueName, MAINTENANCE_QUEUE, WEBHOOK_QUEUE } from "../src/jobs/catalog.js";
import { JobQueues } from "../src/jobs/queues.js";
import { startHub, type Hub } from "../src/hub.js";
import type { RawQuery } from "../src/db/database.js";
import { createLogger } from "../src/log/logger.js";
import { saveRule } from "../src/rules/rule.service.js";
import { createSecretBox } from "../src/secrets/secret-box.js";
import { createTestDatabase } from "../test/support/database.js";
import { startPrivateMosquitto } from "../test/support/mosquitto.js";
import { SECRETS_KEYS } from "../test/support/pipeline.js";
import { oneMachinePath, oneMachinePlant } from "../test/support/plant.js";
import { TEST_REDIS_URL } from "../test/support/services.js";
import { spawnHub, type HubProcess } from "../test/support/hub-process.js";
import { median, percentile, ratio, roundOrder, startJiraFakeProcess, startProfiler, startPublishers, waitFor, wallClock, type Message, type Publishers } from "./support.js";

/**
 * Events end to end, through a hub started in-process (ingest, api, worker) on real Mosquitto,
 * PostgreSQL and Redis: a counter reading over MQTT (QoS 1) completes a batch → one
 * batch.completed event → an automation → a create_task job → the connector. Two counters on one
 * machine, each with its rule (batchSize 1: every reading is one event) and its automation:
 * - throughput: a burst of readings as fast as the pipeline takes them, to the no-op built-in
 *   board, from the first publish to the last event_action done. BENCH_EVENTS at most, cut to
 *   what the warm-up's pace gets through in BENCH_BURST_SECONDS, so the run stays short;
 * - latency, last: readings at a steady BENCH_LATENCY_RATE/s for BENCH_LATENCY_SECONDS; each
 *   event's time from its publish to the Jira fake (in a process of its own, as the tool is) receiving its POST /issue (the summary carries
 *   the counter value). An event not there 10 s after the last publish counts with the time it
 *   had waited (the percentiles are then lower bounds); the backlog is abandoned, not drained.
 * Baselines, on their own BullMQ prefix, through the hub's own producer (JobQueues.enqueue →
 * addBulk) and a worker with the hub's concurrency and limiter: one job at a time (add →
 * processor) and a burst as large as the pipeline's (added in the recorder's batches of 500,
 * first add → last completed). Throughput and both baselines run in rounds whose order rotates,
 * so drift in a shared machine's load falls on all of them. Connector rate limits are lifted
 * unless CONNECTOR_RATE_LIMITS says otherwise; WORKER_CONCURRENCY and the TELEMETRY_* settings
 * pass through to the hub. Also reported: where the latency goes (publish → recording
 * transaction → tool), this process's CPU per event, and what the hub's PostgreSQL sessions were
 * doing during the bursts. Tunables besides: BENCH_ROUNDS, BENCH_RAW_LATENCY_JOBS (per round),
 * BENCH_PROFILE (a CPU profile of the first throughput round).
 */

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const RATE = Number(process.env.BENCH_LATENCY_RATE ?? 1_000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const BURST = Number(process.env.BENCH_EVENTS ?? 20_000);
/** A burst is cut to what the warm-up's pace gets through in about this long (the run stays short). */
const BURST_SECONDS = Number(process.env.BENCH_BURST_SECONDS ?? 10);
const RAW_LATENCY_JOBS = Number(process.env.BENCH_RAW_LATENCY_JOBS ?? 1_000);
const WARM_UP = 300;
/** How long after its publish an event may still arrive at the fake and count. */
const ARRIVAL_GRACE_MS = 10_000;
/** The most transitions the recorder writes (and enqueues) in one transaction. */
const RECORDER_BATCH = 500;
const HUB_TUNABLES = ["WORKER_CONCURRENCY", "TELEMETRY_FLUSH_MS", "TELEMETRY_WRITE_CONNECTIONS", "TELEMETRY_BATCH_MAX"] as const;
const log = createLogger(process.env.BENCH_LOG_LEVEL ?? "silent");

const run = randomBytes(3).toString("hex");
const enterprise = `bench-events-${run}`;
const prefix = `bench-events-${run}`;
const rawPrefix = `${prefix}-raw`;
const RAW_QUEUE = actionQueueName("raw");
const machinePath = oneMachinePath(enterprise, "press-1");
const SUMMARY = /^bench (\d+)$/;

/** A counter whose every reading completes one batch: strictly rising values and timestamps. */
class Counter {
  private next = 0;
  private readonly firstTs = Date.now() - 10 * 60_000;
  constructor(readonly topic: string) {}
  /** The next `count` readings, and the counter value of the first. */
  take(count: number): { first: number; messages: Message[] } {
    const first = this.next;
    this.next += count;
    const messages = Array.from({ length: count }, (_, i) => ({ topic: this.topic, payload: JSON.stringify({ value: first + i, ts: this.firstTs + first + i }) }));
    return { first, messages };
  }
}

const automations = ([["latency", "jira"], ["burst", "board"]] as const).map(([name, integration]) => ({
  name: `${name}-task`,
  trigger: "batch.completed" as const,
  conditions: { rules: [`${name}-batches`] },
  actions: [{ type: "create_task" as const, key: "task", integration, title: "bench {{event.detail.counterValue}}" }],
}));
const counters = { latency: new Counter(`${machinePath}/latency-parts`), burst: new Counter(`${machinePath}/burst-parts`) };
/** When the Jira fake received the POST /issue of each latency counter value (wall-clock ms). */
const arrivals = new Map<number, number>();
let duplicateIssues = 0;
const live: Publishers[] = [];

function observe(summary: string, at: number): void {
  const match = SUMMARY.exec(summary);
  if (!match) return;
  const value = Number(match[1]);
  if (arrivals.has(value)) duplicateIssues++;
  else arrivals.set(value, at);
}

async function publishers(messages: Message[], maxPerSecond?: number): Promise<Publishers> {
  const started = await startPublishers(broker.url, [messages], { maxPerSecond });
  live.push(started);
  return started;
}

/** The latency phase's leftovers: nothing more is planned, queued jobs go; stopping the hub then only records what is pending. */
async function abandonBacklog(): Promise<void> {
  for (const spec of automations) await saveAutomation(db.database.db, { ...spec, enabled: false }, "bench");
  const queues = new JobQueues(TEST_REDIS_URL, prefix, log);
  await Promise.allSettled(["jira", "builtin"].map((kind) => queues.queue(actionQueueName(kind)).obliterate({ force: true })));
  await queues.close();
}

/** What the hub's PostgreSQL sessions are doing, sampled every 50 ms: state or wait event, and the statement. */
const waitCounts = new Map<string, number>();
let waitTicks = 0;
function sampleWaits(query: RawQuery): { stop(): Promise<void> } {
  let running = true;
  const sampling = (async () => {
    while (running) {
      const { rows } = await query<{ what: string }>(
        `select coalesce(wait_event_type || ':' || wait_event, state) || ' ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 60) as what
         from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle' and query not like 'select count(*) filter%'`,
      );
      waitTicks++;
      for (const { what } of rows) waitCounts.set(what, (waitCounts.get(what) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await sampling;
    },
  };
}

/** The most frequent session states, as the average number of sessions in each. */
const waitProfile = () =>
  Object.fromEntries([...waitCounts].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([what, n]) => [what, Number((n / Math.max(1, waitTicks)).toFixed(2))]));

const broker = await startPrivateMosquitto();
const db = await createTestDatabase("bench_events");
const jira = await startJiraFakeProcess(observe);
const producer = new JobQueues(TEST_REDIS_URL, rawPrefix, log);
const workerConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
let rawWorker: Worker | undefined;
let hub: Hub | undefined;
let workerProcess: HubProcess | undefined;
try {
  // --- the plant: one machine, two counters, their rules, integrations and automations -------
  await applyPlantText(db.database, oneMachinePlant(enterprise, "press-1", [{ name: "latency-parts" }, { name: "burst-parts" }]), "bench.yaml", log);
  const machine = (await machineByPath(db.database.db, machinePath))!;
  const ruleIds: Record<string, number> = {};
  for (const name of ["latency", "burst"]) {
    const params = { kind: "counter", batchSize: 1 } as const;
    ruleIds[name] = (await saveRule(db.database.db, { machineId: machine.id, dataPoint: `${name}-parts`, name: `${name}-batches`, severity: "info", params }, "bench")).row.id;
  }
  const box = createSecretBox(SECRETS_KEYS);
  const jiraConfig = { baseUrl: jira.baseUrl, email: JIRA_FAKE_DEFAULTS.email, projectKey: JIRA_FAKE_DEFAULTS.projectKey };
  await createIntegration(db.database.db, box, { kind: "jira", name: "jira", config: jiraConfig, secrets: { apiToken: JIRA_FAKE_DEFAULTS.apiToken, webhookSecret: "bench" } }, { actor: "bench" });
  await createIntegration(db.database.db, box, { kind: "builtin", name: "board" }, { actor: "bench" });
  for (const spec of automations) await saveAutomation(db.database.db, spec, "bench");

  // What the in-process roles and the worker process share: the same database, Redis namespace and tuning.
  const hubEnv = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    JOBS_PREFIX: prefix,
    SECRETS_KEYS,
    PORT: "0",
    SIMULATOR: "false",
    CONNECTOR_RATE_LIMITS: process.env.CONNECTOR_RATE_LIMITS ?? "builtin=100000/1,jira=100000/1",
    ...Object.fromEntries(HUB_TUNABLES.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : []))),
  };
  const config = parseConfig({ ...hubEnv, NODE_ENV: "test", MQTT_URL: broker.url, MQTT_CLIENT_ID: `${prefix}-hub`, LOG_LEVEL: "silent" });
  const separateWorker = process.env.BENCH_WORKER_PROCESS !== "false";
  hub = await startHub({ config, roles: separateWorker ? ["ingest", "api"] : ["ingest", "api", "worker"], log });
  if (separateWorker) {
    // Info level: the parent waits for the worker's "workers started" line.
    const env = { ...hubEnv, LOG_LEVEL: "info" };
    // BENCH_WORKER_PROFILE=dir: a CPU profile of the worker process, written when it stops.
    const profileDir = process.env.BENCH_WORKER_PROFILE;
    workerProcess = spawnHub({ roles: "worker", env, nodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [] });
    await workerProcess.waitForLog("workers started", { timeoutMs: 60_000 });
  }
  // The bench's own pool: its polling neither waits behind nor takes the hub's connections.
  const { query } = db.database;

  /** Every planned action so far is done; throws on one that died. */
  let planned = 0;
  const settled = async () => {
    const [row] = (await query<{ done: number; dead: number }>("select count(*) filter (where status = 'done')::int as done, count(*) filter (where status = 'dead')::int as dead from event_action")).rows;
    if (row!.dead > 0) throw new Error(`${row!.dead} actions were dead-lettered`);
    return row!.done >= planned;
  };
  const settle = (what: string, timeoutMs = 120_000) => waitFor(settled, what, timeoutMs, 20);
  const lastRecorded = async (rule: number, first: number) =>
    Number((await query<{ last: number }>(
      "select extract(epoch from max(recorded_at)) * 1000 as last from event where rule_id = $1 and (detail->>'counterValue')::int >= $2",
      [rule, first],
    )).rows[0]!.last);

  // --- the pipeline, throughput: a burst to the no-op board -------------------------------------
  const throughput = { rates: [] as number[], recordedRates: [] as number[], events: 0, cpuMs: 0, wallMs: 0, measured: 0 };
  const burst = async (count: number) => {
    const { first, messages } = counters.burst.take(count);
    const pub = await publishers(messages);
    planned += messages.length;
    const startedWall = wallClock();
    const started = performance.now();
    pub.go();
    await settle("the burst's actions");
    const seconds = (performance.now() - started) / 1000;
    await pub.done;
    // The last recording transaction began at `last`: how fast events were recorded, before the workers.
    return { rate: count / seconds, recordedRate: count / ((await lastRecorded(ruleIds.burst!, first)) - startedWall) * 1000 };
  };
  const throughputRound = async (round: number) => {
    const profiler = round === 0 ? await startProfiler() : undefined;
    const waits = sampleWaits(query);
    const [cpu, wall] = [process.cpuUsage(), performance.now()];
    const { rate, recordedRate } = await burst(throughput.events);
    const used = process.cpuUsage(cpu);
    throughput.cpuMs += (used.user + used.system) / 1000;
    throughput.wallMs += performance.now() - wall;
    throughput.measured += throughput.events;
    await waits.stop();
    await profiler?.stop();
    throughput.rates.push(rate);
    throughput.recordedRates.push(recordedRate);
    return `throughput: ${Math.round(rate)} events/s to done (recorded at ≥ ${Math.round(recordedRate)}/s)`;
  };

  // --- the baselines: bare BullMQ through the hub's producer and a worker like the hub's ---------
  let nextJobId = 0;
  let onJob: (id: number) => void = () => {};
  const rateLimit = config.jobs.rateLimits.builtin ?? connectors.get("builtin")!.rateLimit;
  const lockDuration = config.jobs.lockSeconds * 1000;
  rawWorker = new Worker(RAW_QUEUE, async (job) => onJob((job.data as { eventActionId: number }).eventActionId), {
    connection: workerConnection,
    prefix: rawPrefix,
    concurrency: config.jobs.concurrency,
    limiter: { max: rateLimit.max, duration: rateLimit.durationMs },
    lockDuration,
    stalledInterval: lockDuration,
  });
  await rawWorker.waitUntilReady();
  await producer.queue(RAW_QUEUE).waitUntilReady(); // the producer fails fast (no offline queue) until connected
  const rawJob = (id: number) => ({ item: { name: "action.run" as const, data: { eventActionId: id } }, connectorKind: "raw" });
  const raw = { ms: [] as number[], rates: [] as number[] };
  const rawLatencyRound = async () => {
    const ms: number[] = [];
    for (let i = 0; i < RAW_LATENCY_JOBS; i++) {
      const id = nextJobId++;
      let timer: NodeJS.Timeout | undefined;
      const processed = new Promise<number>((resolve, reject) => {
        onJob = (got) => got === id && resolve(performance.now());
        timer = setTimeout(() => reject(new Error(`raw job ${id} was not processed within 10 s`)), 10_000);
      });
      const started = performance.now();
      await producer.enqueue([rawJob(id)]);
      ms.push((await processed) - started);
      clearTimeout(timer);
    }
    raw.ms.push(...ms);
    return `raw bullmq one at a time: p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms`;
  };
  const rawThroughputRound = async () => {
    const count = throughput.events;
    const ids = Array.from({ length: count }, () => nextJobId++);
    let completed = 0;
    const onCompleted = () => completed++;
    rawWorker!.on("completed", onCompleted);
    const started = performance.now();
    for (let i = 0; i < ids.length; i += RECORDER_BATCH) await producer.enqueue(ids.slice(i, i + RECORDER_BATCH).map(rawJob));
    await waitFor(() => completed >= count, "the raw worker to complete the burst", 60_000, 2);
    const rate = count / ((performance.now() - started) / 1000);
    rawWorker!.off("completed", onCompleted);
    raw.rates.push(rate);
    return `raw bullmq burst: ${Math.round(rate)} jobs/s`;
  };

  // --- warm up (JIT, pools, connections) and size the bursts to the pipeline's pace ----------------
  for (const counter of [counters.latency, counters.burst]) {
    // The first reading of a counter only sets its reference: no event.
    const pub = await publishers(counter.take(1).messages);
    pub.go();
    await pub.done;
  }
  const warm = await burst(WARM_UP);
  throughput.events = Math.min(BURST, Math.max(WARM_UP, Math.round(warm.rate * BURST_SECONDS)));
  console.error(`events warm-up: ${WARM_UP} events at ${Math.round(warm.rate)}/s; bursts of ${throughput.events} events`);

  const measure = { throughput: throughputRound, rawThroughput: rawThroughputRound, rawLatency: rawLatencyRound };
  const kinds = Object.keys(measure) as (keyof typeof measure)[];
  for (let round = 0; round < ROUNDS; round++) {
    const lines: string[] = [];
    for (const kind of roundOrder(kinds, round)) lines.push(await measure[kind](round));
    console.error(`events round ${round + 1}/${ROUNDS}: ${lines.join("; ")}`);
  }

  // --- the pipeline, latency: a steady rate to the Jira fake, last (it may leave a backlog) ----------
  const { first, messages } = counters.latency.take(RATE * LATENCY_SECONDS);
  const pub = await publishers(messages, RATE);
  pub.go();
  const [sentAt] = await pub.done;
  const arrived = () => messages.every((_, i) => arrivals.has(first + i));
  await waitFor(arrived, "the Jira fake to receive every issue", ARRIVAL_GRACE_MS, 20).catch(() => {});
  const cutoff = wallClock();
  // Events that had not arrived by the cutoff count with the time they had waited: a lower bound.
  const latencies = sentAt!.map((sent, i) => (arrivals.get(first + i) ?? cutoff) - sent);
  const arrivedCount = messages.filter((_, i) => arrivals.has(first + i)).length;
  // Where the time went: publish → the recording transaction's start (recorded_at is its now()) → the tool.
  const recorded = new Map(
    (await query<{ value: number; recorded: number }>(
      "select (detail->>'counterValue')::int as value, extract(epoch from recorded_at) * 1000 as recorded from event where rule_id = $1 and (detail->>'counterValue')::int >= $2",
      [ruleIds.latency, first],
    )).rows.map((r) => [r.value, Number(r.recorded)]),
  );
  const toRecorded = sentAt!.map((sent, i) => (recorded.get(first + i) ?? cutoff) - sent);
  const recordedToTool = sentAt!.flatMap((_, i) => {
    const [rec, at] = [recorded.get(first + i), arrivals.get(first + i)];
    return rec === undefined || at === undefined ? [] : [at - rec];
  });
  await abandonBacklog();

  const value = median(throughput.rates);
  const baseline = median(raw.rates);
  const fixed = (v: number, digits = 1) => Number(v.toFixed(digits));
  const result = {
    bench: "events",
    value: Math.round(value),
    unit: "events/s",
    baseline: Math.round(baseline),
    baseline_name: "raw bullmq addBulk->process",
    ratio: ratio(value, baseline),
    p50_ms: fixed(percentile(latencies, 50)),
    p99_ms: fixed(percentile(latencies, 99)),
    latency_rate: RATE,
    raw_bullmq_p50_ms: fixed(percentile(raw.ms, 50), 2),
    raw_bullmq_p99_ms: fixed(percentile(raw.ms, 99), 2),
    latency_sent: messages.length,
    latency_arrived: arrivedCount,
    /** Some events had not arrived within the grace period: the percentiles are lower bounds. */
    latency_lower_bound: arrivedCount < messages.length,
    stages_p50_ms: { to_recorded: fixed(percentile(toRecorded, 50)), recorded_to_tool: fixed(percentile(recordedToTool, 50)) },
    stages_p99_ms: { to_recorded: fixed(percentile(toRecorded, 99)), recorded_to_tool: fixed(percentile(recordedToTool, 99)) },
    burst_events: throughput.events,
    recorded_events_per_s: Math.round(median(throughput.recordedRates)),
    rounds: { throughput: throughput.rates.map(Math.round), raw_throughput: raw.rates.map(Math.round) },
    // This process (hub, Jira fake, the bench's polling) while bursting: CPU per event, and its share of one core.
    cpu_ms_per_event: fixed(throughput.cpuMs / throughput.measured, 2),
    cpu_share: fixed(throughput.cpuMs / throughput.wallMs, 2),
    pg_sessions: waitProfile(),
    duplicate_issues: duplicateIssues,
    worker_concurrency: config.jobs.concurrency,
  };
  console.error(
    `events: latency at ${RATE}/s for ${LATENCY_SECONDS} s (${arrivedCount}/${messages.length} arrived within ${ARRIVAL_GRACE_MS / 1000} s): p50 ${result.p50_ms} ms, ` +
      `p99 ${result.p99_ms} ms${result.latency_lower_bound ? " (lower bounds)" : ""}, raw bullmq p50 ${result.raw_bullmq_p50_ms} ms, p99 ${result.raw_bullmq_p99_ms} ms; ` +
      `throughput (${ROUNDS} rounds of ${throughput.events} events): median ${result.value} events/s vs raw bullmq ${result.baseline} jobs/s; ` +
      `PostgreSQL sessions while bursting (average number in each state): ${JSON.stringify(result.pg_sessions)}`,
  );
  console.log(JSON.stringify(result));
} finally {
  live.forEach((p) => p.stop());
  await hub?.stop();
  await workerProcess?.kill("SIGTERM");
  await rawWorker?.close();
  workerConnection.disconnect();
  // Both prefixes' queues, and whatever else they left in Redis (schedulers, markers).
  const hubQueues = new JobQueues(TEST_REDIS_URL, prefix, log);
  const names = [...[...connectors.keys()].map(actionQueueName), WEBHOOK_QUEUE, MAINTENANCE_QUEUE];
  await Promise.allSettled([...names.map((n) => hubQueues.queue(n).obliterate({ force: true })), producer.queue(RAW_QUEUE).obliterate({ force: true })]);
  await Promise.allSettled([hubQueues.close(), producer.close()]);
  await dropKeys(`${prefix}:*`, `${rawPrefix}:*`);
  await jira.close();
  await db.drop();
  await broker.stop();
}

async function dropKeys(...patterns: string[]): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    for (const match of patterns) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
}
