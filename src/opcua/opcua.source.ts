import type { ClientMonitoredItemGroup, ClientSubscription, DataValue, NodeId, OPCUACertificateManager } from "node-opcua";
import type { DeadbandType } from "../../schema/db/opcua.js";
import type { Logger } from "../log/logger.js";
import { openConnection, type EndpointSettings, type OpcuaConnection } from "./opcua.connection.js";

/** One monitored item the hub wants: `key` is the data point it feeds. */
export interface OpcuaItem {
  readonly key: number;
  readonly nodeId: string | null;
  /** A RelativePath from the Objects folder, e.g. `/2:Machines/2:press-1.2:Temperature`. */
  readonly browsePath: string | null;
  readonly samplingIntervalMs: number;
  readonly queueSize: number;
  readonly deadbandType: DeadbandType;
  readonly deadbandValue: number;
}

/** One data change as the server sent it. Times are epoch milliseconds. */
export interface OpcuaChange {
  readonly key: number;
  readonly value: unknown;
  readonly statusCode: number;
  readonly sourceTimestamp: number | undefined;
  readonly serverTimestamp: number | undefined;
  readonly receivedAt: number;
}

export interface OpcuaSourceListener {
  /** The changes of one publish response, duplicates already dropped. */
  changes(batch: OpcuaChange[]): void;
  /** After every (re)subscription: every wanted item, with the server's refusal or undefined. */
  itemErrors(errors: ReadonlyMap<number, string | undefined>): void;
  /** Data stopped: connection lost, session or subscription gone, or the endpoint unreachable. */
  gapOpened(at: Date, reason: string): void;
  /** Subscribed (again): any gap ends here. */
  online(at: Date): void;
}

export type OpcuaSourceState = "stopped" | "connecting" | "online" | "reconnecting";

export interface OpcuaSourceStatus {
  kind: "opcua";
  endpoint: string;
  url: string;
  state: OpcuaSourceState;
  connectedSince?: string;
  lastError?: string;
  received: number;
  reconnects: number;
  subscriptions: number;
  items: { wanted: number; active: number };
}

export interface OpcuaSourceOptions {
  settings: EndpointSettings;
  pki: OPCUACertificateManager;
  publishingIntervalMs: number;
  /** Our cap; the server's advertised MaxMonitoredItemsPerSubscription applies when lower. */
  maxItemsPerSubscription: number;
  backoff?: { initialMs: number; maxMs: number };
  log: Logger;
}

const MAX_KEEP_ALIVE_COUNT = 10;
/** A subscription that said nothing (no data, no keep-alive) for this many keep-alive periods is dead. */
const WATCHDOG_KEEP_ALIVE_PERIODS = 3;
const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000 };

/**
 * A long-lived subscriber to one OPC UA endpoint. It owns the whole lifecycle: connect, session,
 * monitored items spread over subscriptions within the server's limits, and on any loss (socket
 * closed, subscription terminated, keep-alives silent) it tears everything down and builds it
 * again with backoff, so a restarted server gets a new session and new subscriptions. Each
 * silence is reported as a gap with its start and end.
 */
export class OpcuaSource {
  private items: readonly OpcuaItem[] = [];
  private connection: OpcuaConnection | undefined;
  private listener: OpcuaSourceListener | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** Resolves the wait of the current connection with the reason it ended. */
  private endConnection: ((reason: string) => void) | undefined;
  private wake: (() => void) | undefined;
  private gapOpen = false;
  /** Newest source time delivered per item: a value sent again after a resubscription is not a new reading. */
  private readonly lastDelivered = new Map<number, number>();
  private activeItems = 0;
  private subscriptionCount = 0;
  private currentStatus: OpcuaSourceStatus;

  constructor(private readonly options: OpcuaSourceOptions) {
    this.currentStatus = {
      kind: "opcua",
      endpoint: options.settings.name,
      url: options.settings.url,
      state: "stopped",
      received: 0,
      reconnects: 0,
      subscriptions: 0,
      items: { wanted: 0, active: 0 },
    };
  }

  status(): OpcuaSourceStatus {
    return { ...this.currentStatus, subscriptions: this.subscriptionCount, items: { wanted: this.items.length, active: this.activeItems } };
  }

  /** The open session, for reads, writes and method calls; undefined while not online. */
  session(): OpcuaConnection | undefined {
    return this.currentStatus.state === "online" ? this.connection : undefined;
  }

  /** Starts the connect loop; resolves after the first attempt, whatever its outcome. */
  async start(listener: OpcuaSourceListener, items: readonly OpcuaItem[]): Promise<void> {
    this.listener = listener;
    this.items = items;
    this.stopped = false;
    this.currentStatus.state = "connecting";
    let firstAttempt!: () => void;
    const attempted = new Promise<void>((resolve) => (firstAttempt = resolve));
    this.running = this.run(firstAttempt);
    await attempted;
  }

  /** Replaces the wanted items: the subscriptions are built again with them. */
  setItems(items: readonly OpcuaItem[]): void {
    this.items = items;
    const wanted = new Set(items.map((i) => i.key));
    for (const key of [...this.lastDelivered.keys()]) if (!wanted.has(key)) this.lastDelivered.delete(key);
    this.endConnection?.("monitored items changed");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.currentStatus.state = "stopped";
    this.endConnection?.("stopped");
    this.wake?.();
    await this.running;
  }

  private async run(firstAttempt: () => void): Promise<void> {
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    let delay = backoff.initialMs;
    while (!this.stopped) {
      let reason: string;
      try {
        const { ended } = await this.connectAndSubscribe();
        firstAttempt();
        delay = backoff.initialMs;
        reason = await ended;
      } catch (error) {
        firstAttempt();
        reason = (error as Error).message;
        this.currentStatus.lastError = reason;
        this.options.log.error({ endpoint: this.options.settings.name, err: error }, "opc ua endpoint unavailable");
      }
      await this.teardown();
      if (this.stopped) break;
      if (reason !== "monitored items changed") this.openGap(reason);
      this.currentStatus.state = "reconnecting";
      this.currentStatus.reconnects++;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, reason === "monitored items changed" ? 0 : delay).unref();
      });
      delay = Math.min(delay * 2, backoff.maxMs);
    }
    await this.teardown();
  }

  /** Resolves once subscribed; `ended` then says why the connection ended. */
  private async connectAndSubscribe(): Promise<{ ended: Promise<string> }> {
    const { settings, log } = this.options;
    const connection = await openConnection(settings, this.options.pki);
    this.connection = connection;
    // Bound to this connection: a late event of an earlier client must not end a later one.
    let end!: (reason: string) => void;
    const ended = new Promise<string>((resolve) => (end = resolve));
    this.endConnection = end;
    if (this.stopped) end("stopped");
    connection.client.on("connection_lost", () => end("connection lost"));
    connection.client.on("close", () => end("connection closed"));
    connection.session.on("session_closed", () => end("session closed by the server"));
    connection.session.on("keepalive_failure", () => end("session keep-alive failed"));

    const resolved = await this.resolveItems(connection);
    const limits = await serverLimits(connection);
    const limit = Math.max(1, Math.min(this.options.maxItemsPerSubscription, limits.perSubscription));
    const errors = new Map<number, string | undefined>(resolved.errors);
    let lastHeard = Date.now();
    let active = 0;
    const chunks = chunk(resolved.items, limit);
    for (const items of chunks) {
      const subscription = await this.createSubscription(connection, () => (lastHeard = Date.now()), end);
      for (const group of groupByParameters(items).flatMap((g) => chunk(g, limits.perCall))) {
        const monitored = await this.monitor(connection, subscription, group);
        monitored.monitoredItems.forEach((item, i) => {
          const key = group[i]!.item.key;
          if (item.statusCode.isGood()) {
            active++;
            errors.set(key, undefined);
          } else errors.set(key, `${item.statusCode.name}: ${item.statusCode.description}`);
        });
      }
    }
    this.activeItems = active;
    this.subscriptionCount = chunks.length;
    this.listener?.itemErrors(errors);

    // The watchdog: node-opcua's own recovery has left subscriptions silent after restarts elsewhere.
    const silentAfterMs = WATCHDOG_KEEP_ALIVE_PERIODS * MAX_KEEP_ALIVE_COUNT * this.options.publishingIntervalMs;
    const watchdog = setInterval(() => {
      if (chunks.length > 0 && Date.now() - lastHeard > silentAfterMs) end(`no publish response for ${Math.round((Date.now() - lastHeard) / 1000)} s`);
    }, Math.min(silentAfterMs, 5_000));
    watchdog.unref();
    void ended.finally(() => clearInterval(watchdog));

    const now = new Date();
    this.currentStatus = { ...this.currentStatus, state: "online", connectedSince: now.toISOString() };
    delete this.currentStatus.lastError;
    this.closeGap(now);
    log.info({ endpoint: settings.name, url: settings.url, items: active, refused: resolved.items.length + resolved.errors.size - active, subscriptions: chunks.length }, "opc ua endpoint subscribed");
    return { ended };
  }

  /** NodeIds with namespace URIs become this server's indexes; browse paths are translated. */
  private async resolveItems(connection: OpcuaConnection): Promise<{ items: { item: OpcuaItem; nodeId: NodeId }[]; errors: Map<number, string> }> {
    const { ua, session, namespaceArray } = connection;
    const items: { item: OpcuaItem; nodeId: NodeId }[] = [];
    const errors = new Map<number, string>();
    const byPath: OpcuaItem[] = [];
    for (const item of this.items) {
      if (item.nodeId === null) {
        byPath.push(item);
        continue;
      }
      try {
        items.push({ item, nodeId: ua.resolveNodeId(item.nodeId, { namespaceArray }) });
      } catch (error) {
        errors.set(item.key, `cannot use NodeId ${item.nodeId} on this server: ${(error as Error).message}`);
      }
    }
    if (byPath.length > 0) {
      const paths = byPath.map((item) => {
        try {
          return ua.makeBrowsePath("ObjectsFolder", item.browsePath!);
        } catch (error) {
          errors.set(item.key, `browse path ${item.browsePath}: ${(error as Error).message}`);
          return undefined;
        }
      });
      const valid = paths.flatMap((p, i) => (p ? [{ path: p, item: byPath[i]! }] : []));
      const results = valid.length > 0 ? await session.translateBrowsePath(valid.map((v) => v.path)) : [];
      results.forEach((result, i) => {
        const { item } = valid[i]!;
        const target = result.targets?.[0]?.targetId;
        if (!result.statusCode.isGood() || !target) errors.set(item.key, `browse path ${item.browsePath}: ${result.statusCode.name}`);
        else items.push({ item, nodeId: ua.resolveNodeId(target.toString()) });
      });
    }
    return { items, errors };
  }

  private async createSubscription(connection: OpcuaConnection, heard: () => void, end: (reason: string) => void): Promise<ClientSubscription> {
    const subscription = await connection.session.createSubscription2({
      requestedPublishingInterval: this.options.publishingIntervalMs,
      requestedMaxKeepAliveCount: MAX_KEEP_ALIVE_COUNT,
      requestedLifetimeCount: MAX_KEEP_ALIVE_COUNT * 6,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 10,
    });
    subscription.on("keepalive", heard);
    subscription.on("received_notifications", heard);
    subscription.on("terminated", () => end("subscription terminated"));
    subscription.on("status_changed", (status) => {
      if (!status.isGood()) end(`subscription ${status.name}`);
    });
    return subscription;
  }

  private async monitor(connection: OpcuaConnection, subscription: ClientSubscription, group: { item: OpcuaItem; nodeId: NodeId }[]): Promise<ClientMonitoredItemGroup> {
    const { ua } = connection;
    const first = group[0]!.item;
    const filter =
      first.deadbandType === "none"
        ? null
        : new ua.DataChangeFilter({
            trigger: ua.DataChangeTrigger.StatusValue,
            deadbandType: first.deadbandType === "absolute" ? ua.DeadbandType.Absolute : ua.DeadbandType.Percent,
            deadbandValue: first.deadbandValue,
          });
    const monitored = await subscription.monitorItems(
      group.map((g) => ({ nodeId: g.nodeId, attributeId: ua.AttributeIds.Value })),
      { samplingInterval: first.samplingIntervalMs, queueSize: first.queueSize, discardOldest: true, filter },
      ua.TimestampsToReturn.Both,
    );
    const keys = group.map((g) => g.item.key);
    let batch: OpcuaChange[] = [];
    // One publish response arrives as a burst of "changed" events: deliver it as one batch.
    const flush = () => {
      const ready = batch;
      batch = [];
      if (ready.length > 0) this.listener?.changes(ready);
    };
    monitored.on("changed", (_item, dataValue: DataValue, index: number) => {
      const change = toChange(keys[index]!, dataValue);
      const last = this.lastDelivered.get(change.key);
      const ts = change.sourceTimestamp ?? change.serverTimestamp;
      if (ts !== undefined && last !== undefined && ts <= last) return;
      if (ts !== undefined) this.lastDelivered.set(change.key, ts);
      this.currentStatus.received++;
      if (batch.length === 0) setImmediate(flush);
      batch.push(change);
    });
    return monitored;
  }

  private async teardown(): Promise<void> {
    this.endConnection = undefined;
    const connection = this.connection;
    this.connection = undefined;
    this.activeItems = 0;
    this.subscriptionCount = 0;
    await connection?.close();
  }

  private openGap(reason: string): void {
    if (this.gapOpen) return;
    this.gapOpen = true;
    this.options.log.warn({ endpoint: this.options.settings.name, reason }, "opc ua data gap opened; reconnecting");
    this.listener?.gapOpened(new Date(), reason);
  }

  private closeGap(at: Date): void {
    if (this.gapOpen) this.options.log.info({ endpoint: this.options.settings.name }, "opc ua data gap closed");
    this.gapOpen = false;
    this.listener?.online(at);
  }
}

/** The server's advertised MaxMonitoredItemsPerSubscription and MaxMonitoredItemsPerCall; 0 or unreadable: no limit. */
async function serverLimits({ ua, session }: OpcuaConnection): Promise<{ perSubscription: number; perCall: number }> {
  const ids = [ua.VariableIds.Server_ServerCapabilities_MaxMonitoredItemsPerSubscription, ua.VariableIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall];
  const values = await session.read(ids.map((id) => ({ nodeId: ua.resolveNodeId(id), attributeId: ua.AttributeIds.Value }))).catch(() => []);
  const limit = (i: number) => {
    const value = values[i];
    const n = value?.statusCode.isGood() ? Number(value.value.value) : 0;
    return n > 0 ? n : Number.MAX_SAFE_INTEGER;
  };
  return { perSubscription: limit(0), perCall: limit(1) };
}

function toChange(key: number, dataValue: DataValue): OpcuaChange {
  return {
    key,
    value: dataValue.value.value,
    statusCode: dataValue.statusCode.value,
    sourceTimestamp: dataValue.sourceTimestamp?.getTime(),
    serverTimestamp: dataValue.serverTimestamp?.getTime(),
    receivedAt: Date.now(),
  };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Items sharing sampling interval, queue size and deadband go into one CreateMonitoredItems call. */
function groupByParameters<T extends { item: OpcuaItem }>(items: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const entry of items) {
    const { samplingIntervalMs, queueSize, deadbandType, deadbandValue } = entry.item;
    const key = `${samplingIntervalMs}/${queueSize}/${deadbandType}/${deadbandValue}`;
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  return [...groups.values()];
}
