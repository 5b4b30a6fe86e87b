import type { Bus } from "../../bus/bus.js";
import type { Logger } from "../../log/logger.js";
import type { RawReading } from "../../telemetry/sample.js";
import { rejection, type Normalized } from "../payload.normalizer.js";
import { SparkplugBindings } from "./sparkplug.bindings.js";
import { decodeSparkplug, rebirthCommand } from "./sparkplug.codec.js";
import { asJson, sparkplugSamples } from "./sparkplug.normalizer.js";
import { SparkplugSessions, type SessionOutcome } from "./sparkplug.session.js";
import { parseSparkplugTopic, sparkplugTopic, type SparkplugTopic } from "./sparkplug.topic.js";

/** Publishes on the hub's MQTT connection (QoS 0 is enough for a rebirth request: a gap asks again). */
export type Publish = (topic: string, payload: Buffer) => Promise<void>;

/**
 * The Sparkplug B host application: turns edge nodes' messages into samples through the session
 * state (births, aliases, sequence numbers), asks for a rebirth when it cannot follow, and
 * reports births and deaths as machine connectivity on the bus. Messages are handled in arrival
 * order, synchronously, so the session state never interleaves.
 */
export class SparkplugHost {
  private readonly sessions = new SparkplugSessions();
  private bindings = new SparkplugBindings([]);

  constructor(
    private readonly publish: Publish,
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  setBindings(bindings: SparkplugBindings): void {
    this.bindings = bindings;
  }

  /** Machines no longer bound to Sparkplug: their last death no longer says anything about them. */
  released(machineIds: readonly number[]): void {
    const at = new Date();
    for (const machineId of machineIds) this.bus.emit("machineConnectivity", { machineId: String(machineId), online: true, at, reason: "sparkplug binding removed" });
  }

  subscriptionFilters(): string[] {
    return this.bindings.subscriptionFilters();
  }

  /** A metric's datatype as its birth declared it. */
  birthType(group: string, node: string, device: string | undefined, metric: string): string | undefined {
    return this.sessions.typeOf(group, node, device, metric);
  }

  accept(raw: RawReading): Normalized {
    const topic = parseSparkplugTopic(raw.topic);
    // STATE messages (ours and other hosts') and foreign topics under spBv1.0 are not data.
    if (!topic) return { samples: [], rejections: [] };
    let payload;
    try {
      payload = decodeSparkplug(raw.payload);
    } catch (error) {
      return { samples: [], rejections: [rejection(raw, "malformed_payload", `not a Sparkplug B payload: ${(error as Error).message}`)] };
    }
    const outcome = this.sessions.handle(topic, payload, raw.receivedAt);
    if (outcome.rebirth) this.requestRebirth(topic, outcome.rebirth);
    this.announce(topic, outcome, raw.receivedAt);
    const bound = outcome.metrics
      .map(({ device, name, metric }) => ({ metric, bindings: this.bindings.lookup(topic.group, topic.node, device, name) }))
      .filter((b) => b.bindings.length > 0);
    const normalized = sparkplugSamples(raw, payload.timestamp, bound);
    // Unresolved metrics of bound nodes are kept with their reason; the rebirth will bring them again.
    if (this.bindings.machinesOf(topic.group, topic.node, "all").length > 0) {
      for (const { metric, why } of outcome.unresolved) normalized.rejections.push(rejection(asJson(raw, metric), "unknown_metric", why));
    }
    return normalized;
  }

  private requestRebirth(topic: SparkplugTopic, reason: string): void {
    const command = sparkplugTopic({ group: topic.group, type: "NCMD", node: topic.node });
    this.log.warn({ node: `${topic.group}/${topic.node}`, reason }, "sparkplug rebirth requested");
    this.publish(command, rebirthCommand(Date.now())).catch((error: unknown) =>
      this.log.error({ err: error, topic: command }, "sparkplug rebirth request not sent"),
    );
  }

  private announce(topic: SparkplugTopic, outcome: SessionOutcome, receivedAt: number): void {
    for (const change of outcome.connectivity) {
      // A node's death takes its devices with it; its birth brings back only its own metrics (devices have births of their own).
      const which = change.device === undefined && !change.online ? "all" : { device: change.device };
      for (const machineId of this.bindings.machinesOf(topic.group, topic.node, which)) {
        this.bus.emit("machineConnectivity", { machineId: String(machineId), online: change.online, at: new Date(receivedAt), reason: `sparkplug ${change.reason}` });
      }
    }
  }
}
