import mqtt from "mqtt";
import { applyPlant } from "../src/assets/plant-apply.js";
import type { PlantSpec } from "../src/assets/plant-file.js";
import { Bus } from "../src/bus/bus.js";
import { parseConfig } from "../src/config.js";
import { IngestService } from "../src/ingest/ingest.service.js";
import { MqttSource } from "../src/ingest/mqtt.source.js";
import { encodeSparkplug } from "../src/ingest/sparkplug/sparkplug.codec.js";
import { SparkplugHost } from "../src/ingest/sparkplug/sparkplug.host.js";
import { createLogger } from "../src/log/logger.js";
import { TelemetryWriter } from "../src/telemetry/telemetry.writer.js";
import { createTestDatabase } from "../test/support/database.js";
import { startPrivateMosquitto } from "../test/support/mosquitto.js";
import { median, ratio, roundOrder, startPublishers, waitFor, type Message } from "./support.js";

/**
 * Sparkplug B ingest against plain JSON ingest, through the same hub in the same run: 50 edge
 * nodes send NDATA by alias (10 metrics a message, protobuf) and 50 machines send the same
 * readings as JSON objects, at QoS 1 through Mosquitto into the MQTT source, the Sparkplug host
 * or JSON normalizer, and the telemetry writer (PostgreSQL). Rounds alternate (order rotating);
 * medians are reported. The ratio is the cost of protobuf decoding and session tracking.
 * Tunables: BENCH_MACHINES, BENCH_MESSAGES (per round and kind), BENCH_PUBLISHERS, BENCH_ROUNDS.
 */

const MACHINES = Number(process.env.BENCH_MACHINES ?? 50);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 2);
const METRICS = 10;
const READINGS = MESSAGES * METRICS;
const GROUP = "bench";
const log = createLogger(process.env.BENCH_LOG_LEVEL ?? "silent");
const kinds = ["sparkplug", "json"] as const;
type Kind = (typeof kinds)[number];

function benchPlant(): PlantSpec {
  const machines = kinds.flatMap((kind) =>
    Array.from({ length: MACHINES }, (_, m) => ({
      name: `${kind}${m}`,
      dataPoints: Array.from({ length: METRICS }, (_, k) => ({
        name: `metric${k}`,
        dataType: "float" as const,
        ...(kind === "sparkplug"
          ? { sparkplugGroup: GROUP, sparkplugNode: `node${m}`, sparkplugMetric: `f${k}` }
          : { mqttTopic: `bench/site/area/line/json${m}/telemetry`, mqttField: `f${k}` }),
      })),
    })),
  );
  return { enterprise: "bench", sites: [{ name: "site", timezone: "UTC", areas: [{ name: "area", lines: [{ name: "line", machines }] }] }] };
}

const PER_NODE = Math.ceil(MESSAGES / MACHINES);
const ROUND_SPAN_MS = PER_NODE + 1_000;
const FIRST_TS = Date.now() - ROUNDS * ROUND_SPAN_MS;

/** Round `round`'s messages of one kind: the same readings either way; Sparkplug's seq continues from the births. */
function benchMessages(kind: Kind, round: number): Message[] {
  const start = FIRST_TS + round * ROUND_SPAN_MS;
  return Array.from({ length: MESSAGES }, (_, i) => {
    const machine = i % MACHINES;
    const step = Math.floor(i / MACHINES);
    const ts = start + step;
    const values = Array.from({ length: METRICS }, () => Math.round(Math.random() * 100_000) / 1000);
    if (kind === "json") {
      return { topic: `bench/site/area/line/json${machine}/telemetry`, payload: JSON.stringify({ ts, ...Object.fromEntries(values.map((v, k) => [`f${k}`, v])) }) };
    }
    const seq = (round * PER_NODE + step + 1) % 256;
    const payload = encodeSparkplug({ timestamp: ts, seq, metrics: values.map((value, k) => ({ alias: k + 1, type: "Double", value })) });
    return { topic: `spBv1.0/${GROUP}/NDATA/node${machine}`, payload: payload.toString("base64"), base64: true };
  });
}

/** Every node's NBIRTH (seq 0, names and aliases), sent once before the rounds. */
async function birthNodes(url: string): Promise<void> {
  const client = await mqtt.connectAsync(url);
  for (let m = 0; m < MACHINES; m++) {
    const metrics = [{ name: "bdSeq", type: "UInt64" as const, value: 0 }, ...Array.from({ length: METRICS }, (_, k) => ({ name: `f${k}`, alias: k + 1, type: "Double" as const, value: 0 }))];
    await client.publishAsync(`spBv1.0/${GROUP}/NBIRTH/node${m}`, encodeSparkplug({ timestamp: FIRST_TS - 1_000, seq: 0, metrics }), { qos: 1 });
  }
  await client.endAsync();
}

const broker = await startPrivateMosquitto();
const db = await createTestDatabase("bench_sparkplug");
try {
  await applyPlant(db.database, benchPlant());
  const shipped = parseConfig({}).telemetry;
  const bus = new Bus(log);
  let rebirths = 0;
  const writer = new TelemetryWriter(db.database, bus, log, shipped);
  const source = new MqttSource({ url: broker.url, clientId: `bench-hub-${process.pid}`, sessionExpirySeconds: 60, receiveMaximum: 65_535, log });
  const host = new SparkplugHost(async () => void rebirths++, bus, log);
  const ingest = new IngestService(db.database, source, writer, log, host);
  await ingest.start();
  await waitFor(() => source.status().state === "online", "the hub's MQTT connection", 10_000);
  await birthNodes(broker.url);
  // The births' own values: 10 rows per node.
  await waitFor(() => writer.stats.stored >= MACHINES * METRICS, "the births to be stored");

  const rates: Record<Kind, number[]> = { sparkplug: [], json: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of roundOrder(kinds, round)) {
      const messages = benchMessages(kind, round);
      // Dealt by machine, so each node's sequence numbers reach the hub in order.
      const publishers = await startPublishers(broker.url, Array.from({ length: PUBLISHERS }, (_, p) => messages.filter((_, i) => (i % MACHINES) % PUBLISHERS === p)));
      const target = writer.stats.stored + READINGS;
      const started = performance.now();
      publishers.go();
      await waitFor(() => writer.stats.stored + writer.stats.quarantined >= target, `the hub to store every ${kind} reading`);
      rates[kind].push(READINGS / ((performance.now() - started) / 1000));
      await publishers.done;
    }
    console.error(`sparkplug round ${round + 1}/${ROUNDS}: sparkplug ${Math.round(rates.sparkplug[round]!)}, json ${Math.round(rates.json[round]!)} readings/s`);
  }
  await ingest.stop();
  await writer.close();
  if (writer.stats.quarantined > 0 || rebirths > 0) throw new Error(`${writer.stats.quarantined} readings quarantined, ${rebirths} rebirths requested`);
  const [sparkplugRate, jsonRate] = [median(rates.sparkplug), median(rates.json)];
  console.error(`sparkplug: ${ROUNDS} rounds of ${MESSAGES} messages × ${METRICS} metrics per kind over ${MACHINES} nodes; medians: sparkplug ${Math.round(sparkplugRate)}, json ${Math.round(jsonRate)} readings/s`);
  console.log(
    JSON.stringify({
      bench: "sparkplug",
      value: Math.round(sparkplugRate),
      unit: "readings/s",
      baseline: Math.round(jsonRate),
      baseline_name: "the same readings as plain JSON through the same hub (QoS 1)",
      ratio: ratio(sparkplugRate, jsonRate),
    }),
  );
} finally {
  await db.drop();
  await broker.stop();
}
