import mqtt, { type IPublishPacket, type MqttClient, type Packet } from "mqtt";
import { redactUrl } from "../config.js";
import type { Logger } from "../log/logger.js";
import type { RawReading } from "../telemetry/sample.js";

export type SourceState = "stopped" | "connecting" | "online" | "reconnecting";

export interface SourceStatus {
  kind: "mqtt";
  url: string;
  state: SourceState;
  connectedSince?: string;
  lastError?: string;
  received: number;
  /** Topic filters wanted, and how many of them the broker has confirmed (SUBACK). */
  subscriptions: { wanted: number; active: number };
  /** Disconnections while running: each is a window in which the broker held our messages. */
  gaps: { from: string; to?: string }[];
}

export interface MqttSourceOptions {
  url: string;
  clientId: string;
  sessionExpirySeconds: number;
  /** How many unacknowledged QoS 1 messages the broker may send us: our back-pressure. */
  receiveMaximum: number;
  /** 5 by default; 4 (MQTT 3.1.1) for brokers without MQTT 5, such as the embedded aedes. */
  protocolVersion?: 4 | 5;
  /** PEM contents for mqtts:// and wss://: the broker's CA and the hub's client certificate. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** A retained message published on every connect, and its counterpart the broker publishes when we vanish (a Sparkplug host's STATE). */
  presence?: { topic: string; online: Buffer; offline: Buffer };
  log: Logger;
}

/** Resolves once the reading is durably stored (or quarantined); only then is it acknowledged. */
export type OnReading = (reading: RawReading) => Promise<void>;

type SendPacket = (packet: Packet, cb?: (error?: Error) => void, ...rest: unknown[]) => void;

const MAX_RECORDED_GAPS = 100;
const SUBSCRIBE_RETRY_MS = 5_000;

/**
 * A long-lived MQTT 5 subscriber with a persistent session (clean: false, session expiry > 0).
 *
 * mqtt.js acknowledges a QoS 1 message as soon as `handleMessage` calls back, and it handles the
 * next packet only after that, so waiting for the database there would process one message per
 * commit. Instead `handleMessage` hands the reading on and returns at once, and the PUBACK that
 * mqtt.js then sends is held back until the reading's batch has committed. A crash before the
 * commit leaves the message unacknowledged in the broker's session, which redelivers it.
 */
export class MqttSource {
  private client: MqttClient | undefined;
  private filters = new Set<string>();
  /** Filters the broker confirmed; forgotten when it reports that our session is gone. */
  private readonly active = new Set<string>();
  private subscribing: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly heldAcks = new Map<number, { connection: number; stored: Promise<void> }>();
  private connection = 0;
  private currentStatus: SourceStatus;

  constructor(private readonly options: MqttSourceOptions) {
    this.currentStatus = {
      kind: "mqtt",
      url: redactUrl(options.url),
      state: "stopped",
      received: 0,
      subscriptions: { wanted: 0, active: 0 },
      gaps: [],
    };
  }

  status(): SourceStatus {
    const subscriptions = { wanted: this.filters.size, active: [...this.filters].filter((f) => this.active.has(f)).length };
    return { ...this.currentStatus, subscriptions, gaps: [...this.currentStatus.gaps] };
  }

  /** Connects and keeps reconnecting; resolves after the first connection or a failed first try. */
  async start(onReading: OnReading): Promise<void> {
    const { options } = this;
    this.currentStatus.state = "connecting";
    const mqtt5 = (options.protocolVersion ?? 5) === 5;
    const client = mqtt.connect(options.url, {
      clientId: options.clientId,
      protocolVersion: mqtt5 ? 5 : 4,
      // MQTT 3.1.1 keeps a clean: false session until the client cleans it; MQTT 5 needs an expiry.
      clean: false,
      ...(mqtt5 ? { properties: { sessionExpiryInterval: options.sessionExpirySeconds, receiveMaximum: options.receiveMaximum } } : {}),
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      // We subscribe on every connect ourselves; mqtt.js's own resubscription would make our
      // SUBACK bookkeeping see "already subscribed" (an empty grant) as a refusal.
      resubscribe: false,
      ...(options.tls ? { ...options.tls, rejectUnauthorized: true } : {}),
      ...(options.presence ? { will: { topic: options.presence.topic, payload: options.presence.offline, qos: 1, retain: true } } : {}),
    });
    this.client = client;
    this.holdAcksUntilStored(client);

    client.handleMessage = (packet: IPublishPacket, callback) => {
      const stored = this.accept(packet, onReading);
      if (packet.qos > 0 && packet.messageId !== undefined) {
        this.heldAcks.set(packet.messageId, { connection: this.connection, stored });
      }
      callback();
    };

    client.on("connect", (connack) => {
      this.connection++;
      const now = new Date().toISOString();
      const openGap = this.currentStatus.gaps.at(-1);
      if (openGap && openGap.to === undefined) openGap.to = now;
      this.currentStatus = { ...this.currentStatus, state: "online", connectedSince: now };
      options.log.info({ sessionPresent: connack.sessionPresent, clientId: options.clientId }, "mqtt connected");
      if (!connack.sessionPresent) this.active.clear();
      // Subscribing again is harmless when the session kept them, and repairs it when it did not.
      if (this.filters.size > 0) this.subscribing = this.subscribe([...this.filters]);
      if (options.presence) {
        this.publish(options.presence.topic, options.presence.online, { qos: 1, retain: true }).catch((error: unknown) =>
          options.log.error({ err: error, topic: options.presence?.topic }, "mqtt presence not published"),
        );
      }
    });
    client.on("close", () => {
      if (this.currentStatus.state === "online") {
        this.currentStatus.gaps.push({ from: new Date().toISOString() });
        if (this.currentStatus.gaps.length > MAX_RECORDED_GAPS) this.currentStatus.gaps.shift();
        options.log.warn({ url: this.currentStatus.url }, "mqtt connection lost; reconnecting");
      }
      if (this.currentStatus.state !== "stopped") this.currentStatus.state = "reconnecting";
    });
    client.on("error", (error) => {
      this.currentStatus.lastError = error.message;
      options.log.error({ err: error }, "mqtt error");
    });

    await new Promise<void>((resolve) => {
      client.once("connect", () => resolve());
      client.once("error", () => resolve());
      setTimeout(resolve, 10_000).unref();
    });
    await this.subscribing;
  }

  /** Subscribes to the given filters at QoS 1 and drops the ones no longer wanted. */
  async setFilters(filters: readonly string[]): Promise<void> {
    const wanted = new Set(filters);
    const removed = [...this.filters].filter((f) => !wanted.has(f));
    const added = [...wanted].filter((f) => !this.filters.has(f));
    this.filters = wanted;
    if (!this.client?.connected) return; // the connect handler subscribes
    if (removed.length > 0) {
      await this.client.unsubscribeAsync(removed);
      removed.forEach((f) => this.active.delete(f));
    }
    if (added.length > 0) await this.subscribe(added);
  }

  /** Publishes on this connection; fails at once while disconnected (commands must not arrive late). */
  async publish(topic: string, payload: Buffer, options: { qos: 0 | 1; retain?: boolean } = { qos: 0 }): Promise<void> {
    if (!this.client?.connected) throw new Error("not connected to the MQTT broker");
    await this.client.publishAsync(topic, payload, { qos: options.qos, retain: options.retain ?? false });
  }

  async stop(): Promise<void> {
    clearTimeout(this.retryTimer);
    if (!this.client) return;
    this.currentStatus.state = "stopped";
    // A clean stop says goodbye itself: the broker publishes the will only when a connection is lost.
    if (this.options.presence && this.client.connected) {
      await this.publish(this.options.presence.topic, this.options.presence.offline, { qos: 1, retain: true }).catch(() => {});
    }
    // Not forced: mqtt.js flushes the acknowledgements already released before it disconnects.
    await this.client.endAsync(false);
    this.client = undefined;
  }

  /** Subscribes at QoS 1; filters the broker refuses are retried every few seconds. */
  private async subscribe(filters: string[]): Promise<void> {
    let refused = filters;
    try {
      const granted = (await this.client?.subscribeAsync(filters, { qos: 1 })) ?? [];
      const accepted = new Set(granted.filter((g) => g.qos < 128).map((g) => g.topic));
      accepted.forEach((f) => this.active.add(f));
      refused = filters.filter((f) => !accepted.has(f));
      if (accepted.size > 0) this.options.log.info({ filters: [...accepted] }, "mqtt subscribed");
      if (refused.length > 0) this.options.log.error({ filters: refused }, "mqtt broker refused subscriptions");
    } catch (error) {
      this.currentStatus.lastError = (error as Error).message;
      this.options.log.error({ err: error, filters }, "mqtt subscribe failed");
    }
    if (refused.length > 0 && this.client) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        const stillWanted = refused.filter((f) => this.filters.has(f) && !this.active.has(f));
        if (stillWanted.length > 0 && this.client?.connected) void this.subscribe(stillWanted);
      }, SUBSCRIBE_RETRY_MS);
      this.retryTimer.unref();
    }
  }

  private accept(packet: IPublishPacket, onReading: OnReading): Promise<void> {
    this.currentStatus.received++;
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    return onReading({ source: "mqtt", topic: packet.topic, payload, receivedAt: Date.now() });
  }

  private holdAcksUntilStored(client: MqttClient): void {
    const internals = client as unknown as { _sendPacket: SendPacket };
    const send = internals._sendPacket.bind(client);
    internals._sendPacket = (packet, cb, ...rest) => {
      const held = packet.cmd === "puback" ? this.heldAcks.get(packet.messageId ?? -1) : undefined;
      if (!held) return send(packet, cb, ...rest);
      this.heldAcks.delete(packet.messageId!);
      cb?.(); // mqtt.js may go on to the next packet now
      held.stored.then(
        () => {
          // An ack from an earlier connection could match a reused packet id: let the broker redeliver instead.
          if (held.connection === this.connection && client.connected) send(packet);
        },
        (error: unknown) => this.options.log.error({ err: error, messageId: packet.messageId }, "reading not stored; left unacknowledged"),
      );
    };
  }
}
