import { randomUUID } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import type { TypeStr } from "sparkplug-payload/lib/sparkplugbpayload.js";
import { decodeSparkplug, encodeSparkplug, REBIRTH_METRIC } from "../ingest/sparkplug/sparkplug.codec.js";
import { sparkplugTopic, type SparkplugMessageType } from "../ingest/sparkplug/sparkplug.topic.js";

/**
 * A small Sparkplug B edge node: births with aliases, data by alias, seq and bdSeq kept as the
 * specification asks, a rebirth on NCMD `Node Control/Rebirth`, and DCMD/NCMD writes applied and
 * reported back. The demo runs one; tests drive it message by message.
 */

export type MetricValue = number | boolean;
export interface EdgeMetric {
  name: string;
  alias: number;
  type: TypeStr;
  value: MetricValue;
}

/** What a write to a metric makes the node report back; the default reports what was written. */
export type OnWrite = (device: string | undefined, metric: string, value: MetricValue) => MetricValue;

export interface EdgeNodeOptions {
  mqttUrl: string;
  group: string;
  node: string;
  /** The node's own metrics (NBIRTH/NDATA). */
  metrics: EdgeMetric[];
  /** Each device's metrics (DBIRTH/DDATA). */
  devices: Record<string, EdgeMetric[]>;
  onWrite?: OnWrite;
}

export interface ReceivedCommand {
  topic: string;
  device: string | undefined;
  metrics: { name?: string; value: unknown }[];
}

export class SparkplugEdgeNode {
  readonly commands: ReceivedCommand[] = [];
  /** Completed births (NBIRTH and every DBIRTH sent), the first one included. */
  births = 0;
  private client: MqttClient | undefined;
  private readonly bdSeq = 0;
  private seq = 0;
  private lastTimestamp = 0;
  private readonly values = new Map<string, EdgeMetric[]>();

  constructor(private readonly options: EdgeNodeOptions) {
    this.values.set("", options.metrics.map((m) => ({ ...m })));
    for (const [device, metrics] of Object.entries(options.devices)) this.values.set(device, metrics.map((m) => ({ ...m })));
  }

  /** Connects with its NDEATH as the will, listens for commands and publishes its births. */
  async start(): Promise<void> {
    const { group, node } = this.options;
    this.client = await mqtt.connectAsync(this.options.mqttUrl, {
      clientId: `edge-${node}-${randomUUID().slice(0, 8)}`,
      reconnectPeriod: 0,
      will: { topic: sparkplugTopic({ group, type: "NDEATH", node }), payload: this.deathPayload(), qos: 1, retain: false },
    });
    this.client.on("message", (topic, payload) => this.onCommand(topic, payload));
    await this.client.subscribeAsync([sparkplugTopic({ group, type: "NCMD", node }), `${sparkplugTopic({ group, type: "DCMD", node, device: "+" })}`], { qos: 1 });
    await this.birth();
  }

  /** NBIRTH (seq 0, the session's bdSeq) and a DBIRTH per device, with names, aliases and values. */
  async birth(): Promise<void> {
    this.seq = 0;
    await this.send("NBIRTH", undefined, [{ name: "bdSeq", type: "UInt64", value: this.bdSeq }, ...this.current(undefined).map(birthMetric), { name: REBIRTH_METRIC, type: "Boolean", value: false }], 0);
    for (const device of Object.keys(this.options.devices)) await this.send("DBIRTH", device, this.current(device).map(birthMetric));
    this.births++;
  }

  /** NDATA or DDATA by alias; `quality` sets the Quality property; `seq` forces a sequence number (a gap). */
  async data(device: string | undefined, values: Record<string, MetricValue>, extra: { quality?: number; seq?: number } = {}): Promise<void> {
    const metrics = Object.entries(values).map(([name, value]) => {
      const metric = this.metric(device, name);
      metric.value = value;
      return { alias: metric.alias, type: metric.type, value, ...(extra.quality === undefined ? {} : { properties: { Quality: { type: "Int32" as const, value: extra.quality } } }) };
    });
    await this.send(device === undefined ? "NDATA" : "DDATA", device, metrics, extra.seq);
  }

  async deviceDeath(device: string): Promise<void> {
    await this.send("DDEATH", device, []);
  }

  /** Publishes the NDEATH the broker would send as the will (`bdSeq`: another session's, to test that it is ignored). */
  async death(bdSeq = this.bdSeq): Promise<void> {
    await this.client?.publishAsync(sparkplugTopic({ group: this.options.group, type: "NDEATH", node: this.options.node }), this.deathPayload(bdSeq), { qos: 1 });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = undefined;
  }

  valueOf(device: string | undefined, name: string): MetricValue {
    return this.metric(device, name).value;
  }

  private async onCommand(topic: string, payload: Buffer): Promise<void> {
    const device = topic.split("/")[4];
    const decoded = decodeSparkplug(payload);
    this.commands.push({ topic, device, metrics: decoded.metrics.map((m) => ({ name: m.name, value: m.value })) });
    if (decoded.metrics.some((m) => m.name === REBIRTH_METRIC && m.value === true)) return this.birth();
    const written: Record<string, MetricValue> = {};
    for (const m of decoded.metrics) {
      // Commands to metrics it does not report (a method's trigger) are taken, not echoed.
      if (m.name === undefined || !this.current(device).some((known) => known.name === m.name)) continue;
      if (typeof m.value !== "number" && typeof m.value !== "boolean") continue;
      written[m.name] = this.options.onWrite ? this.options.onWrite(device, m.name, m.value) : m.value;
    }
    if (Object.keys(written).length > 0) await this.data(device, written);
  }

  private async send(type: SparkplugMessageType, device: string | undefined, metrics: Parameters<typeof encodeSparkplug>[0]["metrics"], seq?: number): Promise<void> {
    const payloadSeq = seq ?? (type === "NBIRTH" ? 0 : (this.seq = (this.seq + 1) % 256));
    if (seq !== undefined) this.seq = seq;
    const topic = sparkplugTopic({ group: this.options.group, type, node: this.options.node, ...(device === undefined ? {} : { device }) });
    await this.client?.publishAsync(topic, encodeSparkplug({ timestamp: this.timestamp(), seq: payloadSeq, metrics }), { qos: 0 });
  }

  /** Strictly increasing: the hub keeps one reading per point and millisecond. */
  private timestamp(): number {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    return this.lastTimestamp;
  }

  private current(device: string | undefined): EdgeMetric[] {
    return this.values.get(device ?? "") ?? [];
  }

  private metric(device: string | undefined, name: string): EdgeMetric {
    const metric = this.current(device).find((m) => m.name === name);
    if (!metric) throw new Error(`edge node ${this.options.node} has no metric "${name}"${device ? ` on device ${device}` : ""}`);
    return metric;
  }

  private deathPayload(bdSeq = this.bdSeq): Buffer {
    return encodeSparkplug({ timestamp: Date.now(), metrics: [{ name: "bdSeq", type: "UInt64", value: bdSeq }] });
  }
}

const birthMetric = (m: EdgeMetric) => ({ name: m.name, alias: m.alias, type: m.type, value: m.value });
