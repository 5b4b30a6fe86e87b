import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Bus } from "../src/bus/bus.js";
import { parseConfig } from "../src/config.js";
import { loadVariableNodeId } from "../src/demo/opcua-simulator.js";
import { createLogger } from "../src/log/logger.js";
import { loadNodeOpcua } from "../src/opcua/node-opcua.js";
import { createEndpoint } from "../src/opcua/opcua-endpoint.service.js";
import { OpcuaManager } from "../src/opcua/opcua.manager.js";
import { TelemetryWriter } from "../src/telemetry/telemetry.writer.js";
import { createTestDatabase } from "../test/support/database.js";
import { median, ratio, waitFor } from "./support.js";

/**
 * OPC UA ingest: a simulator (its own process) with BENCH_ITEMS variables that all change every
 * second. In alternating rounds, a bare node-opcua client subscribes to every item and only counts
 * the notifications (the ceiling), and the hub's OPC UA source subscribes to the same items and
 * stores every reading in PostgreSQL (end to end). Reported: each one's notification rate and the
 * share of one core this process used, per 1,000 notifications/s. Tunables: BENCH_ITEMS,
 * BENCH_SECONDS (measured per round), BENCH_ROUNDS.
 */

const ITEMS = Number(process.env.BENCH_ITEMS ?? 10_000);
// Notifications arrive in bursts of up to 1,000 per subscription: a long window keeps that granularity small.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ITEMS_PER_SUBSCRIPTION = 1_000;
/** Twice the rate of change, so every change is sampled exactly once. */
const SAMPLING_MS = 500;
const PUBLISHING_MS = 1_000;
const log = createLogger(process.env.BENCH_LOG_LEVEL ?? "silent");

interface Measured {
  rate: number;
  /** Share of one core this process used while measuring. */
  cpu: number;
}

/** Counts for SECONDS once `count` is rising steadily; returns the rate and this process's CPU share. */
async function measure(count: () => number | Promise<number>): Promise<Measured> {
  await waitFor(async () => (await count()) >= ITEMS * 2, "the first two rounds of notifications", 120_000, 200);
  const startCount = await count();
  const startCpu = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1_000));
  const cpu = process.cpuUsage(startCpu);
  const elapsedMs = performance.now() - started;
  const rate = ((await count()) - startCount) / (elapsedMs / 1_000);
  return { rate, cpu: (cpu.user + cpu.system) / 1_000 / elapsedMs };
}

/** The ceiling: node-opcua alone, counting `changed` events, with the same subscriptions and items. */
async function bareClient(endpointUrl: string): Promise<Measured> {
  const ua = await loadNodeOpcua(log);
  const clientCertificateManager = new ua.OPCUACertificateManager({ rootFolder: path.join(pkiRoot, "bare"), automaticallyAcceptUnknownCertificate: false });
  await clientCertificateManager.initialize();
  const client = ua.OPCUAClient.create({ endpointMustExist: false, clientCertificateManager, connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 1_000 } });
  await client.connect(endpointUrl);
  const session = await client.createSession();
  const namespaceArray = await session.readNamespaceArray();
  let notifications = 0;
  for (let first = 0; first < ITEMS; first += ITEMS_PER_SUBSCRIPTION) {
    const subscription = await session.createSubscription2({ requestedPublishingInterval: PUBLISHING_MS, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 60, maxNotificationsPerPublish: 0, publishingEnabled: true });
    const items = Array.from({ length: Math.min(ITEMS_PER_SUBSCRIPTION, ITEMS - first) }, (_, i) => ({
      nodeId: ua.resolveNodeId(loadVariableNodeId(first + i), { namespaceArray }),
      attributeId: ua.AttributeIds.Value,
    }));
    const group = await subscription.monitorItems(items, { samplingInterval: SAMPLING_MS, queueSize: 1, discardOldest: true }, ua.TimestampsToReturn.Both);
    group.on("changed", () => notifications++);
  }
  try {
    return await measure(() => notifications);
  } finally {
    await session.close(true);
    await client.disconnect();
    await clientCertificateManager.dispose();
  }
}

/** The hub: OpcuaManager → normalizer → TelemetryWriter → PostgreSQL, counting stored rows. */
async function hub(endpointUrl: string, round: number): Promise<Measured> {
  const testDb = await createTestDatabase(`bench_opcua_${round}`);
  const { database } = testDb;
  try {
    await database.query("insert into enterprise (name) values ('bench')");
    await database.query("insert into site (enterprise_id, name) select id, 'site' from enterprise");
    await database.query("insert into area (site_id, name) select id, 'area' from site");
    await database.query("insert into line (area_id, name) select id, 'line' from area");
    await database.query("insert into machine (line_id, name, path) select id, 'm', 'bench/site/area/line/m' from line");
    await database.query("insert into data_point (machine_id, name) select m.id, 'v' || g from machine m, generate_series(0, $1::int - 1) g", [ITEMS]);
    const endpoint = await createEndpoint(database.db, undefined, { name: "bench", url: endpointUrl, securityMode: "None", maxItemsPerSubscription: ITEMS_PER_SUBSCRIPTION, publishingIntervalMs: PUBLISHING_MS }, {}, { actor: "bench" });
    await database.query(
      "insert into opcua_binding (data_point_id, endpoint_id, node_id, sampling_interval_ms) select id, $1, replace($2, '#', substr(name, 2)), $3 from data_point",
      [endpoint.id, loadVariableNodeId("#"), SAMPLING_MS],
    );
    const writer = new TelemetryWriter(database, new Bus(log), log, parseConfig({}).telemetry);
    const manager = new OpcuaManager({ database, writer, box: undefined, pkiDir: path.join(pkiRoot, `hub-${round}`), log });
    await manager.start();
    try {
      return await measure(() => writer.stats.stored);
    } finally {
      await manager.stop();
      await writer.close();
    }
  } finally {
    await testDb.drop();
  }
}

const pkiRoot = await mkdtemp(path.join(os.tmpdir(), "plantgraph-bench-opcua-"));
const server = fork(path.resolve(process.cwd(), "bench/opcua-server.ts"), { execArgv: ["--import", "tsx"], stdio: "inherit" });
try {
  const { endpointUrl } = await new Promise<{ endpointUrl: string }>((resolve, reject) => {
    server.once("message", (message) => resolve(message as { endpointUrl: string }));
    server.once("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
    server.send({ items: ITEMS, pkiDir: path.join(pkiRoot, "server") });
  });
  const bare: Measured[] = [];
  const ours: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating, so drift in a shared machine's load falls on both.
    bare.push(await bareClient(endpointUrl));
    ours.push(await hub(endpointUrl, round));
    console.error(`round ${round + 1}: bare ${Math.round(bare.at(-1)!.rate)}/s at ${pct(bare.at(-1)!.cpu)} of a core; hub ${Math.round(ours.at(-1)!.rate)}/s at ${pct(ours.at(-1)!.cpu)}`);
  }
  const hubRate = median(ours.map((m) => m.rate));
  const bareRate = median(bare.map((m) => m.rate));
  const hubCpu = median(ours.map((m) => m.cpu));
  const bareCpu = median(bare.map((m) => m.cpu));
  console.log(
    JSON.stringify({
      bench: "opcua",
      value: Math.round(hubRate),
      unit: "notifications/s stored",
      baseline: Math.round(bareRate),
      baseline_name: "bare node-opcua client, same items",
      ratio: ratio(hubRate, bareRate),
      items: ITEMS,
      hub_cpu_share_of_one_core: round3(hubCpu),
      hub_cpu_per_1000_per_s: round3(hubCpu / (hubRate / 1_000)),
      bare_cpu_share_of_one_core: round3(bareCpu),
      bare_cpu_per_1000_per_s: round3(bareCpu / (bareRate / 1_000)),
    }),
  );
} finally {
  server.send("stop");
  await new Promise((resolve) => server.once("exit", resolve));
  await rm(pkiRoot, { recursive: true, force: true });
}

function pct(share: number): string {
  return `${Math.round(share * 1000) / 10} %`;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
