import mqtt from "mqtt";
import { applyPlant } from "../src/assets/plant-apply.js";
import type { PlantSpec } from "../src/assets/plant-file.js";
import { Bus } from "../src/bus/bus.js";
import { parseConfig } from "../src/config.js";
import type { Database } from "../src/db/database.js";
import { IngestService } from "../src/ingest/ingest.service.js";
import { MqttSource } from "../src/ingest/mqtt.source.js";
import { createLogger } from "../src/log/logger.js";
import { TelemetryWriter } from "../src/telemetry/telemetry.writer.js";
import { createTestDatabase } from "../test/support/database.js";
import { startPrivateMosquitto } from "../test/support/mosquitto.js";
import { median, ratio, roundOrder, startProfiler, startPublishers, waitFor, type Message } from "./support.js";

/**
 * Ingest end to end: publisher processes send JSON telemetry (10 metrics a message) at QoS 1
 * through Mosquitto into the hub's MQTT source, normalizer and telemetry writer (PostgreSQL).
 * Ceilings measured in the same run: the raw broker pub → sub rate of the same messages, and the
 * raw unnest insert rate of the same rows. The three are measured in alternating rounds (their
 * order rotating) and each reported as its median, so drift in a shared machine's load falls on
 * all of them alike. Tunables: BENCH_MACHINES, BENCH_MESSAGES (per round), BENCH_PUBLISHERS,
 * BENCH_ROUNDS, BENCH_WRITE_BATCH, BENCH_WRITE_CONNECTIONS, BENCH_PROFILE.
 */

const MACHINES = Number(process.env.BENCH_MACHINES ?? 50);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 2);
const METRICS = 10;
/** The hub's own defaults unless overridden: the bench measures what a deployment gets. */
const shipped = parseConfig({}).telemetry;
const WRITE_BATCH = Number(process.env.BENCH_WRITE_BATCH ?? shipped.batchMax);
const WRITE_CONNECTIONS = Number(process.env.BENCH_WRITE_CONNECTIONS ?? shipped.writeConnections);
const FLUSH_MS = shipped.flushMs;
const READINGS = MESSAGES * METRICS;
const log = createLogger(process.env.BENCH_LOG_LEVEL ?? "silent");

function benchPlant(): PlantSpec {
  const machines = Array.from({ length: MACHINES }, (_, m) => ({
    name: `m${m}`,
    dataPoints: Array.from({ length: METRICS }, (_, k) => ({
      name: `metric${k}`,
      dataType: "float" as const,
      mqttTopic: `bench/site/area/line/m${m}/telemetry`,
      mqttField: `f${k}`,
    })),
  }));
  return { enterprise: "bench", sites: [{ name: "site", timezone: "UTC", areas: [{ name: "area", lines: [{ name: "line", machines }] }] }] };
}

const ROUND_SPAN_MS = Math.ceil(MESSAGES / MACHINES) + 1_000;
const FIRST_TS = Date.now() - ROUNDS * ROUND_SPAN_MS;

/** Distinct (machine, ts) per message and round, so every reading is a new row. */
function benchMessages(root: string, round: number): Message[] {
  const start = FIRST_TS + round * ROUND_SPAN_MS;
  return Array.from({ length: MESSAGES }, (_, i) => {
    const machine = i % MACHINES;
    const fields: Record<string, number> = { ts: start + Math.floor(i / MACHINES) };
    for (let k = 0; k < METRICS; k++) fields[`f${k}`] = Math.round(Math.random() * 100_000) / 1000;
    return { topic: `${root}/site/area/line/m${machine}/telemetry`, payload: JSON.stringify(fields) };
  });
}

/** The messages dealt round-robin to PUBLISHERS publisher processes. */
const publish = (url: string, messages: Message[]) =>
  startPublishers(url, Array.from({ length: PUBLISHERS }, (_, p) => messages.filter((_, i) => i % PUBLISHERS === p)));

async function brokerCeiling(url: string, round: number): Promise<number> {
  const messages = benchMessages("rawbench", round);
  const subscriber = await mqtt.connectAsync(url, { protocolVersion: 5, clean: true, properties: { receiveMaximum: 65_535 } });
  let received = 0;
  subscriber.on("message", () => received++);
  await subscriber.subscribeAsync("rawbench/#", { qos: 1 });
  const publishers = await publish(url, messages);
  const started = performance.now();
  publishers.go();
  await waitFor(() => received >= MESSAGES, "the raw subscriber");
  const seconds = (performance.now() - started) / 1000;
  await publishers.done;
  await subscriber.endAsync();
  return READINGS / seconds;
}

async function sqlCeiling(database: Database, round: number): Promise<number> {
  const rows = benchMessages("sql", round).flatMap((m, i) =>
    Array.from({ length: METRICS }, (_, k) => ({ point: (i % MACHINES) * METRICS + k + 1, ts: JSON.parse(m.payload).ts as number, value: Math.random() })),
  );
  // The same batch size and number of connections as the hub's writer, so only the hub's own work differs.
  const starts = Array.from({ length: Math.ceil(rows.length / WRITE_BATCH) }, (_, i) => i * WRITE_BATCH);
  const started = performance.now();
  const connection = async () => {
    for (let start = starts.shift(); start !== undefined; start = starts.shift()) {
      const slice = rows.slice(start, start + WRITE_BATCH);
      await database.query(
        `insert into bench_raw (data_point_id, ts, value, quality)
         select p, to_timestamp(t / 1000.0), v, 0 from unnest($1::int4[], $2::float8[], $3::float8[]) as u(p, t, v)`,
        [slice.map((r) => r.point), slice.map((r) => r.ts), slice.map((r) => r.value)],
      );
    }
  };
  await Promise.all(Array.from({ length: WRITE_CONNECTIONS }, connection));
  return rows.length / ((performance.now() - started) / 1000);
}

interface BenchHub {
  writer: TelemetryWriter;
  round(round: number): Promise<number>;
  stop(): Promise<void>;
}

/** The hub's ingest path, started once; each round publishes new readings and times their storing. */
async function startBenchHub(url: string, database: Database): Promise<BenchHub> {
  const bus = new Bus(log);
  const writer = new TelemetryWriter(database, bus, log, { batchMax: WRITE_BATCH, flushMs: FLUSH_MS, writeConnections: WRITE_CONNECTIONS });
  const source = new MqttSource({ url, clientId: `bench-hub-${process.pid}`, sessionExpirySeconds: 60, receiveMaximum: 65_535, log });
  const ingest = new IngestService(database, source, writer, log);
  await ingest.start();
  await waitFor(() => source.status().state === "online", "the hub's MQTT connection", 10_000);
  return {
    writer,
    round: async (round) => {
      const target = writer.stats.stored + READINGS;
      const publishers = await publish(url, benchMessages("bench", round));
      const profiler = round === 0 ? await startProfiler() : undefined;
      const started = performance.now();
      publishers.go();
      await waitFor(() => writer.stats.stored + writer.stats.quarantined >= target, "the hub to store every reading");
      const seconds = (performance.now() - started) / 1000;
      await profiler?.stop();
      await publishers.done;
      if (writer.stats.quarantined > 0) throw new Error(`${writer.stats.quarantined} readings were quarantined`);
      return READINGS / seconds;
    },
    stop: async () => {
      await ingest.stop();
      await writer.close();
    },
  };
}

const broker = await startPrivateMosquitto();
const db = await createTestDatabase("bench_ingest");
try {
  await applyPlant(db.database, benchPlant());
  await db.database.query("create table bench_raw (like telemetry including all)");
  const hub = await startBenchHub(broker.url, db.database);
  const rates = { hub: [] as number[], broker: [] as number[], sql: [] as number[] };
  const measure = {
    hub: (round: number) => hub.round(round),
    broker: (round: number) => brokerCeiling(broker.url, round),
    sql: (round: number) => sqlCeiling(db.database, round),
  };
  const kinds = Object.keys(measure) as (keyof typeof measure)[];
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of roundOrder(kinds, round)) {
      rates[kind].push(await measure[kind](round));
    }
    console.error(`ingest round ${round + 1}/${ROUNDS}: hub ${Math.round(rates.hub[round]!)}, raw mosquitto ${Math.round(rates.broker[round]!)}, raw insert ${Math.round(rates.sql[round]!)} readings/s`);
  }
  const stats = { ...hub.writer.stats };
  await hub.stop();
  const [{ n: stored }] = (await db.database.query<{ n: number }>("select count(*)::int as n from telemetry")).rows as [{ n: number }];
  if (stored !== READINGS * ROUNDS) throw new Error(`expected ${READINGS * ROUNDS} rows, found ${stored}`);
  const [hubRate, brokerRate, sqlRate] = [median(rates.hub), median(rates.broker), median(rates.sql)];
  const ceiling = Math.min(brokerRate, sqlRate);
  console.error(
    `ingest: ${ROUNDS} rounds of ${MESSAGES} messages × ${METRICS} metrics from ${PUBLISHERS} publishers over ${MACHINES} machines; ` +
      `medians: hub ${Math.round(hubRate)} readings/s (${stats.batches} batches, ${Math.round(stats.writeMs)} ms writing in all); ` +
      `raw mosquitto pub->sub ${Math.round(brokerRate)}; raw unnest insert ${Math.round(sqlRate)}`,
  );
  console.log(
    JSON.stringify({
      bench: "ingest",
      value: Math.round(hubRate),
      unit: "readings/s",
      baseline: Math.round(ceiling),
      baseline_name: brokerRate <= sqlRate ? "raw mosquitto pub->sub (QoS 1, same messages)" : "raw PostgreSQL unnest insert (same rows, batches and connections)",
      ratio: ratio(hubRate, ceiling),
      ceilings: { broker: Math.round(brokerRate), sql: Math.round(sqlRate) },
    }),
  );
} finally {
  await db.drop();
  await broker.stop();
}
