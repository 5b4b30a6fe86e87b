import path from "node:path";
import { applyPlantFile } from "./assets/plant-apply.js";
import { createAuthenticator } from "./auth/authenticator.js";
import { ensureBootstrapAccess } from "./auth/bootstrap.js";
import { Bus } from "./bus/bus.js";
import { Actuator } from "./actuation/actuator.js";
import { commandChannels } from "./actuation/command-channel.js";
import { mqttCommandChannel } from "./actuation/mqtt-command.channel.js";
import { opcuaCommandChannel } from "./actuation/opcua-command.channel.js";
import { ReportedValues } from "./actuation/reported-values.js";
import { sparkplugCommandChannel } from "./actuation/sparkplug-command.channel.js";
import { secretBoxFor } from "./secrets/secret-box.js";
import type { Config, Role } from "./config.js";
import { openDatabase, type Database } from "./db/database.js";
import { startEmbeddedBroker, type EmbeddedBroker } from "./demo/embedded-broker.js";
import { demoSimulatedMachines, startSimulator, type Simulator } from "./demo/simulator.js";
import { startSparkplugDemo } from "./demo/sparkplug-demo.js";
import { isDemoOpcuaMachine, startDemoOpcua } from "./demo/opcua-demo.js";
import type { OpcuaSimulator } from "./demo/opcua-simulator.js";
import { endpointByName } from "./opcua/opcua-endpoint.service.js";
import { OpcuaManager } from "./opcua/opcua.manager.js";
import { OpcuaOperations } from "./opcua/opcua.operations.js";
import { OpcuaSessions } from "./opcua/opcua.sessions.js";
import type { HealthCheck, HealthReport, HttpServer } from "./http/server.js";
import { IngestService } from "./ingest/ingest.service.js";
import { MqttSource } from "./ingest/mqtt.source.js";
import { SparkplugHost } from "./ingest/sparkplug/sparkplug.host.js";
import { sparkplugHostState } from "./ingest/sparkplug/sparkplug.state.js";
import { ConnectivityRecorder } from "./telemetry/connectivity.store.js";
import type { Logger } from "./log/logger.js";
import { createHubPubSub, type PubSubHandle } from "./pubsub/pubsub.js";
import { LatestValues } from "./telemetry/latest-values.js";
import { startReadingPublisher } from "./telemetry/reading.publisher.js";
import { TelemetryWriter } from "./telemetry/telemetry.writer.js";
import { readDatabaseSsl, readMqttTls } from "./tls/tls-files.js";
import { resolveRedis, type ResolvedRedis } from "./demo/embedded-redis.js";
import { TransitionRecorder } from "./events/transition.recorder.js";
import { JobQueues } from "./jobs/queues.js";
import { startWorkers, type RunningWorkers } from "./jobs/workers.js";
import { ActionBatches } from "./jobs/action-batches.js";
import { systemActor } from "./audit/audit.js";
import { ensureTelemetryPartitions } from "./lifecycle/partitions.js";
import { RuleRunner } from "./rules/rule.runner.js";
import { StateTracker } from "./availability/state.tracker.js";
import { PlanningRunner } from "./orders/planning.js";
import { checkpointSinks, startCheckpointer, type Checkpointer } from "./audit/checkpointer.js";
import { hubKeyFor } from "./audit/hub-key.js";
import { startChainer, type Chainer } from "./audit/chainer.js";

export interface Hub {
  /** The GraphQL endpoint (HTTP and WebSocket), when this process serves the api role. */
  graphqlUrl?: string;
  mqttUrl?: string;
  database: Database;
  writer?: TelemetryWriter;
  ingest?: IngestService;
  /** The OPC UA sources, when this process ingests. */
  opcua?: OpcuaManager;
  /** Reads, writes and method calls on OPC UA endpoints (on the running session when this process runs the endpoint). */
  opcuaOperations: OpcuaOperations;
  /** Shuts down in dependency order; safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartHubOptions {
  config: Config;
  roles: readonly Role[];
  log: Logger;
}

const DEMO_PLANT_FILE = "src/demo/demo-plant.yaml";
const DATABASE_PING_TIMEOUT_MS = 2_000;
/** How soon an audit entry is linked into the hash chain (and reaches auditAppended). */
const AUDIT_LINK_EVERY_MS = 250;

/** Starts the roles this process runs. If a step fails, what was already started is stopped again. */
export async function startHub({ config, roles, log }: StartHubOptions): Promise<Hub> {
  const ingests = roles.includes("ingest");
  const parts: Parts = {};
  const stop = stopOnce(parts, log);

  try {
    const database = await openDatabase({
      url: config.database.url,
      dataDir: config.database.dataDir,
      ssl: await readDatabaseSsl(config),
      // Every concurrent job may hold a connection; the telemetry writer and the API need theirs too.
      poolSize: 10 + (roles.includes("worker") ? Math.min(config.jobs.concurrency, 20) : 0),
      onError: (error) => log.error({ err: error }, "database connection error"),
    });
    parts.database = database;
    await database.migrate();
    log.info({ kind: database.kind }, "database migrated");
    // The maintenance job keeps them ahead too; a hub that starts after days away needs today's now.
    await ensureTelemetryPartitions(database.db, new Date());

    parts.chainer = startChainer({ db: database.db, everyMs: AUDIT_LINK_EVERY_MS, log });
    // A keyring that cannot work stops the boot here, not at the first integration saved.
    secretBoxFor(config);
    const assetsChanged = await applyStartupPlant(config, database, log);
    if (roles.includes("api")) await ensureBootstrapAccess({ config, database, log });
    parts.pubsub = createHubPubSub(config.redisUrl, log, config.jobs.prefix);
    const { pubsub } = parts.pubsub;

    // Jobs need Redis. A worker without REDIS_URL uses the local one or starts its own (the demo);
    // other roles without it keep planned actions in PostgreSQL until a worker reconciles them.
    if (roles.includes("worker")) parts.redis = await resolveRedis({ redisUrl: config.redisUrl, log });
    const jobsRedisUrl = parts.redis?.url ?? config.redisUrl;
    if (jobsRedisUrl) parts.queues = new JobQueues(jobsRedisUrl, config.jobs.prefix, log);
    else log.warn("REDIS_URL is not set: automation actions stay pending in PostgreSQL until a worker reconciles them");
    // Other replicas reload their bindings; this process reads them fresh when ingest starts.
    if (assetsChanged) pubsub.publish("ASSETS_CHANGED", { at: new Date().toISOString() });

    let bus: Bus | undefined;
    let mqttUrl: string | undefined;
    if (ingests) {
      mqttUrl = config.mqtt.url;
      if (!mqttUrl) {
        parts.broker = await startEmbeddedBroker({ log });
        mqttUrl = parts.broker.url;
      }
      bus = new Bus(log);
      // PGlite is one connection: a second concurrent batch would only queue behind the first.
      parts.writer = new TelemetryWriter(database, bus, log, { ...config.telemetry, writeConnections: database.kind === "postgres" ? config.telemetry.writeConnections : 1 });
      parts.source = new MqttSource({
        url: mqttUrl,
        clientId: config.mqtt.clientId,
        sessionExpirySeconds: config.mqtt.sessionExpirySeconds,
        receiveMaximum: config.mqtt.receiveMaximum,
        protocolVersion: parts.broker ? 4 : 5, // aedes speaks MQTT 3.1.1 only
        tls: await readMqttTls(config),
        presence: sparkplugHostState(config.sparkplug.hostId, Date.now()),
        log,
      });
      const source = parts.source;
      const sparkplug = new SparkplugHost((topic, payload) => source.publish(topic, payload), bus, log);
      parts.connectivity = new ConnectivityRecorder(database, bus, log);
      parts.ingest = new IngestService(database, parts.source, parts.writer, log, sparkplug);
      parts.opcua = new OpcuaManager({ database, writer: parts.writer, box: secretBoxFor(config), pkiDir: config.opcua.pkiDir, log });
      startReadingPublisher(bus, pubsub);
      parts.stopAssetListener = reloadBindingsOnAssetChange(pubsub, [parts.ingest, parts.opcua], log);
      parts.rules = new RuleRunner(database, bus, pubsub, new TransitionRecorder(database, parts.queues, pubsub, log), log);
      await parts.rules.start();
      parts.states = new StateTracker(database, bus, pubsub, parts.queues, log, { offlineAfterMs: config.machineOfflineAfterSeconds * 1000 });
      await parts.states.start();
      parts.planning = new PlanningRunner(database, parts.queues, pubsub, log);
      parts.planning.start();
      await parts.ingest.start();
      // The demo's OPC UA machines must listen before the hub first connects to them.
      if (config.simulator) parts.opcuaSimulator = await startDemoOpcua(config, database, log);
      await parts.opcua.start();
      const reported = new ReportedValues(bus);
      const sendCommand = (topic: string, payload: Buffer) => source.publish(topic, payload, { qos: 1 });
      parts.actuator = new Actuator({
        database,
        pubsub,
        channels: commandChannels(
          mqttCommandChannel(sendCommand, reported),
          sparkplugCommandChannel(sendCommand, reported, (...address) => sparkplug.birthType(...address)),
          opcuaCommandChannel(parts.opcua.operations, async (name) => (await endpointByName(database.db, name))?.id),
        ),
        log,
        readBackTimeoutMs: config.actuation.readBackTimeoutMs,
      });
      parts.actuator.start();
      if (config.simulator) {
        const machines = demoSimulatedMachines().filter((m) => !parts.opcuaSimulator || !isDemoOpcuaMachine(m));
        parts.simulator = await startSimulator({ mqttUrl, machines, log });
        parts.sparkplugDemo = await startSparkplugDemo({ mqttUrl, log });
      }
    }

    if (roles.includes("worker") && parts.queues && jobsRedisUrl) {
      const { jobs, lifecycle } = config;
      const actions = new ActionBatches(database, { queues: parts.queues, pubsub, log, actor: systemActor("worker") });
      parts.workers = await startWorkers(
        {
          database,
          box: secretBoxFor(config),
          pubsub,
          queues: parts.queues,
          log,
          pollIntervalSeconds: jobs.pollIntervalSeconds,
          reconcileAfterSeconds: jobs.reconcileAfterSeconds,
          retention: lifecycle.retention,
          actions,
        },
        {
          redisUrl: jobsRedisUrl,
          prefix: jobs.prefix,
          concurrency: jobs.concurrency,
          reconcileEverySeconds: jobs.reconcileEverySeconds,
          rollupEverySeconds: lifecycle.rollupEverySeconds,
          retentionEverySeconds: lifecycle.retentionEverySeconds,
          lockSeconds: jobs.lockSeconds,
          rateLimits: jobs.rateLimits,
        },
      );
    }

    const opcuaOperations = parts.opcua?.operations ?? new OpcuaOperations((id, use) => (parts.opcuaSessions ??= new OpcuaSessions(database, secretBoxFor(config), config.opcua.pkiDir, log)).temporary(id, use));
    const latest = new LatestValues(database, bus);
    if (roles.includes("api")) {
      // An ingest-only replica never loads Apollo and the GraphQL schema.
      const { startHttpServer } = await import("./http/server.js");
      parts.http = await startHttpServer({
        config,
        deps: { config, database, pubsub, latest, log, authenticator: createAuthenticator({ config, database, log }), queues: parts.queues, opcua: opcuaOperations },
        health: () => healthReport(database, parts.source),
        log,
      });
      log.info({ url: parts.http.url }, `GraphQL ready at ${parts.http.url}`);
      parts.checkpointer = startCheckpointer({
        query: database.query,
        key: await hubKeyFor(config),
        sinks: checkpointSinks(config),
        everyMs: config.audit.checkpointEverySeconds * 1000,
        log,
      });
    }

    return {
      graphqlUrl: parts.http?.url,
      mqttUrl,
      database,
      writer: parts.writer,
      ingest: parts.ingest,
      opcua: parts.opcua,
      opcuaOperations,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface Parts {
  database?: Database;
  pubsub?: PubSubHandle;
  broker?: EmbeddedBroker;
  writer?: TelemetryWriter;
  source?: MqttSource;
  ingest?: IngestService;
  opcua?: OpcuaManager;
  opcuaSessions?: OpcuaSessions;
  stopAssetListener?: () => Promise<void>;
  simulator?: Simulator;
  sparkplugDemo?: Simulator;
  opcuaSimulator?: OpcuaSimulator;
  http?: HttpServer;
  rules?: RuleRunner;
  connectivity?: ConnectivityRecorder;
  actuator?: Actuator;
  states?: StateTracker;
  planning?: PlanningRunner;
  redis?: ResolvedRedis;
  queues?: JobQueues;
  workers?: RunningWorkers;
  checkpointer?: Checkpointer;
  chainer?: Chainer;
}

/** PLANT_FILE when set; the demo plant when the demo runs on its own embedded database. */
async function applyStartupPlant(config: Config, database: Database, log: Logger): Promise<boolean> {
  const file = config.plantFile ?? (!config.database.url && config.simulator ? DEMO_PLANT_FILE : undefined);
  if (!file) return false;
  const { created, updated, deleted } = await applyPlantFile(database, path.resolve(process.cwd(), file), log);
  return created + updated + deleted > 0;
}

function reloadBindingsOnAssetChange(pubsub: PubSubHandle["pubsub"], sources: readonly { reloadBindings(): Promise<void> }[], log: Logger): () => Promise<void> {
  const changes = pubsub.subscribe("ASSETS_CHANGED");
  const listening = (async () => {
    for await (const change of changes) {
      for (const source of sources) await source.reloadBindings().catch((error: unknown) => log.error({ err: error, change }, "reloading ingest bindings failed"));
    }
  })();
  return async () => {
    await changes.return(undefined);
    await listening;
  };
}

async function healthReport(database: Database, source: MqttSource | undefined): Promise<HealthReport> {
  const report: HealthReport = { database: await databaseCheck(database) };
  if (source) {
    const { state, lastError, subscriptions } = source.status();
    if (state !== "online") report.mqtt = { ok: false, detail: lastError ? `${state}: ${lastError}` : state };
    else if (subscriptions.active < subscriptions.wanted) {
      report.mqtt = { ok: false, detail: `${subscriptions.active} of ${subscriptions.wanted} subscriptions confirmed` };
    } else report.mqtt = { ok: true };
  }
  return report;
}

async function databaseCheck(database: Database): Promise<HealthCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${DATABASE_PING_TIMEOUT_MS} ms`)), DATABASE_PING_TIMEOUT_MS);
  });
  try {
    await Promise.race([database.ping(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The shutdown order of ARCHITECTURE.md: nothing new comes in, what came in is written, then the
 * servers and connections it relied on close. Every step runs even when an earlier one failed.
 */
function stopOnce(parts: Parts, log: Logger): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const step = async (name: string, fn: () => Promise<unknown> | undefined): Promise<void> => {
    try {
      await fn();
    } catch (error) {
      log.error({ err: error, step: name }, "shutdown step failed");
    }
  };
  return () =>
    (stopping ??= (async () => {
      log.info("hub stopping");
      await step("simulator", () => parts.simulator?.stop());
      await step("sparkplug demo", () => parts.sparkplugDemo?.stop());
      await step("actuator", () => parts.actuator?.stop());
      await step("asset listener", () => parts.stopAssetListener?.());
      await step("sources", () => parts.ingest?.stop());
      await step("opc ua sources", () => parts.opcua?.stop());
      await step("opc ua sessions", () => parts.opcuaSessions?.close());
      await step("opc ua simulator", () => parts.opcuaSimulator?.stop());
      await step("telemetry writer", () => parts.writer?.close());
      await step("rule engine", () => parts.rules?.stop());
      await step("connectivity", () => parts.connectivity?.flush());
      await step("state tracker", () => parts.states?.stop());
      await step("planning", () => parts.planning?.stop());
      await step("workers", () => parts.workers?.close());
      await step("http", () => parts.http?.close());
      await step("job queues", () => parts.queues?.close());
      await step("pubsub", () => parts.pubsub?.close());
      await step("embedded redis", () => parts.redis?.stop());
      await step("embedded broker", () => parts.broker?.close());
      await step("audit chainer", () => parts.chainer?.stop());
      // A last checkpoint, so the trail's head at shutdown is signed outside the database.
      await step("audit checkpoint", () => parts.checkpointer?.checkpointNow().finally(() => parts.checkpointer?.stop()));
      await step("database", () => parts.database?.close());
      log.info("hub stopped");
    })());
}
