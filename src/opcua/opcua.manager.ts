import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import type { SecretBox } from "../secrets/secret-box.js";
import type { Sample } from "../telemetry/sample.js";
import type { TelemetryWriter } from "../telemetry/telemetry.writer.js";
import { closeGaps, openGap } from "./data-gap.queries.js";
import { listIngestBindings, recordItemErrors, type IngestBindingRow } from "./opcua-binding.service.js";
import { endpointSettings, listEndpoints, recordEndpointHealth, type EndpointRow } from "./opcua-endpoint.service.js";
import type { OpcuaConnection } from "./opcua.connection.js";
import { normalizeOpcua, type OpcuaTarget } from "./opcua.normalizer.js";
import { OpcuaSource, type OpcuaItem, type OpcuaSourceListener, type OpcuaSourceStatus } from "./opcua.source.js";
import { OpcuaOperations } from "./opcua.operations.js";
import { OpcuaSessions } from "./opcua.sessions.js";
import { loadNodeOpcua } from "./node-opcua.js";

export interface OpcuaManagerOptions {
  database: Database;
  writer: TelemetryWriter;
  box: SecretBox | undefined;
  /** The hub's OPC UA PKI folder: its application certificate and the trusted server certificates. */
  pkiDir: string;
  backoff?: { initialMs: number; maxMs: number };
  log: Logger;
}

const REFRESH_MS = 60_000;

interface Running {
  row: EndpointRow;
  source: OpcuaSource;
  itemsKey: string;
  targets: Map<number, OpcuaTarget>;
  /** The newest sample per data point: marked bad when the connection goes. */
  last: Map<number, Sample>;
  /** Database writes of this endpoint's events, in order. */
  events: Promise<void>;
}

/**
 * Runs one OpcuaSource per enabled endpoint with the data points bound to it, feeds their
 * readings to the telemetry writer, and keeps the endpoint's health, the items' errors and the
 * data gaps in the database. node-opcua is loaded only once an endpoint exists. Reads, writes and
 * method calls for other modules go through `operations`.
 */
export class OpcuaManager {
  private readonly running = new Map<number, Running>();
  private readonly sessions: OpcuaSessions;
  private refreshTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private stopped = false;
  readonly operations: OpcuaOperations;

  constructor(private readonly options: OpcuaManagerOptions) {
    this.sessions = new OpcuaSessions(options.database, options.box, options.pkiDir, options.log);
    this.operations = new OpcuaOperations((endpointId, use) => this.withSession(endpointId, use));
  }

  async start(): Promise<void> {
    // Only a hub with endpoints loads node-opcua.
    if ((await listEndpoints(this.options.database.db)).some((e) => e.enabled)) await loadNodeOpcua(this.options.log);
    await this.reloadBindings();
    // The pubsub's change notices are hints; the database is the truth.
    this.refreshTimer = setInterval(() => this.reloadBindings().catch((error: unknown) => this.options.log.error({ err: error }, "refreshing opc ua endpoints failed")), REFRESH_MS);
    this.refreshTimer.unref();
  }

  status(): OpcuaSourceStatus[] {
    return [...this.running.values()].map((r) => r.source.status());
  }

  /** Brings the running sources in line with the database; concurrent calls share one reload. */
  reloadBindings(): Promise<void> {
    this.reloading ??= this.reconcile().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.refreshTimer);
    await this.reloading?.catch(() => {});
    await Promise.all([...this.running.keys()].map((id) => this.stopEndpoint(id)));
    await this.sessions.close();
  }

  private async reconcile(): Promise<void> {
    const { db } = this.options.database;
    const endpoints = (await listEndpoints(db)).filter((e) => e.enabled);
    const bindings = await listIngestBindings(db);
    const wanted = new Map(endpoints.map((e) => [e.id, e]));
    for (const [id, running] of this.running) {
      if (wanted.get(id)?.version !== running.row.version) await this.stopEndpoint(id);
    }
    // New endpoints start side by side: an unreachable one must not hold up the others.
    const starting: Promise<void>[] = [];
    for (const row of endpoints) {
      if (this.stopped) break;
      const own = bindings.filter((b) => b.endpointId === row.id);
      const items = own.map(toItem);
      const itemsKey = JSON.stringify(items);
      const running = this.running.get(row.id);
      if (!running) starting.push(this.startEndpoint(row, own, items, itemsKey));
      else if (running.itemsKey !== itemsKey) {
        running.targets = targetsOf(row, own);
        running.itemsKey = itemsKey;
        running.source.setItems(items);
      }
    }
    await Promise.all(starting);
  }

  private async startEndpoint(row: EndpointRow, bindings: IngestBindingRow[], items: OpcuaItem[], itemsKey: string): Promise<void> {
    const log = this.options.log.child({ component: "opcua" });
    let settings;
    try {
      settings = endpointSettings(this.options.box, row);
    } catch (error) {
      // A secret that cannot be opened stops this endpoint only.
      log.error({ err: error }, "opc ua endpoint not started");
      await recordEndpointHealth(this.options.database.db, row.id, { error: (error as Error).message });
      return;
    }
    const source = new OpcuaSource({
      settings,
      pki: await this.sessions.clientPki(),
      publishingIntervalMs: row.publishingIntervalMs,
      maxItemsPerSubscription: row.maxItemsPerSubscription,
      backoff: this.options.backoff,
      log,
    });
    const running: Running = { row, source, itemsKey, targets: targetsOf(row, bindings), last: new Map(), events: Promise.resolve() };
    this.running.set(row.id, running);
    await source.start(this.listenerFor(running, log), items);
  }

  private async stopEndpoint(id: number): Promise<void> {
    const running = this.running.get(id);
    if (!running) return;
    this.running.delete(id);
    await running.source.stop();
    await running.events;
  }

  private listenerFor(running: Running, log: Logger): OpcuaSourceListener {
    const { writer, database } = this.options;
    const endpointId = running.row.id;
    const record = (what: string, fn: () => Promise<unknown>) => {
      running.events = running.events.then(fn).then(
        () => undefined,
        (error: unknown) => log.error({ err: error }, `recording ${what} failed`),
      );
    };
    return {
      changes: (batch) => {
        const normalized = normalizeOpcua(batch, running.targets);
        for (const sample of normalized.samples) running.last.set(sample.dataPointId, sample);
        writer.write(normalized).catch((error: unknown) => log.error({ err: error, readings: normalized.samples.length }, "opc ua readings not stored"));
      },
      itemErrors: (errors) => {
        for (const [dataPointId, error] of errors) if (error) log.error({ dataPointId, address: running.targets.get(dataPointId)?.address, error }, "opc ua item refused");
        record("item errors", () => recordItemErrors(database.db, errors));
      },
      gapOpened: (at, reason) => {
        // The latest values stop being current: say so with a bad-quality reading, which rules ignore.
        const marks = [...running.last.values()].map((s) => ({ ...s, ts: Math.max(at.getTime(), s.ts + 1), quality: "bad" as const }));
        running.last.clear();
        if (marks.length > 0) writer.write({ samples: marks, rejections: [] }).catch((error: unknown) => log.error({ err: error }, "marking readings bad failed"));
        record("a data gap", async () => {
          await openGap(database.db, endpointId, at, reason);
          await recordEndpointHealth(database.db, endpointId, { error: reason });
        });
      },
      online: (at) =>
        record("the end of a data gap", async () => {
          await closeGaps(database.db, endpointId, at);
          await recordEndpointHealth(database.db, endpointId, { connectedAt: at });
        }),
    };
  }

  /** The running session of the endpoint, or a short one of its own when this process does not run it. */
  private withSession<T>(endpointId: number, use: (connection: OpcuaConnection) => Promise<T>): Promise<T> {
    const live = this.running.get(endpointId)?.source.session();
    return live ? use(live) : this.sessions.temporary(endpointId, use);
  }
}

function toItem(b: IngestBindingRow): OpcuaItem {
  return {
    key: b.dataPointId,
    nodeId: b.nodeId,
    browsePath: b.browsePath,
    samplingIntervalMs: b.samplingIntervalMs,
    queueSize: b.queueSize,
    deadbandType: b.deadbandType,
    deadbandValue: b.deadbandValue,
  };
}

function targetsOf(row: EndpointRow, bindings: readonly IngestBindingRow[]): Map<number, OpcuaTarget> {
  return new Map(
    bindings.map((b) => [b.dataPointId, { dataPointId: b.dataPointId, machineId: b.machineId, metric: b.metric, dataType: b.dataType, address: `${row.name} ${b.nodeId ?? b.browsePath}` }]),
  );
}
