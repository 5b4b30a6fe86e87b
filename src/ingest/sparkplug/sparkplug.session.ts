import type { SparkplugMetric, SparkplugPayload } from "./sparkplug.codec.js";
import type { SparkplugTopic } from "./sparkplug.topic.js";

/**
 * The host application's view of every edge node: born or dead, its bdSeq, the sequence number
 * it is at, and the alias maps its births defined. Pure: messages and the time in, what they
 * mean out. Data that cannot be resolved (an alias no birth defined, a node or device not born)
 * is handed back unresolved, never guessed, together with a rebirth request.
 */

/** A metric with its name known, of the node itself (device undefined) or of one of its devices. */
export interface ResolvedMetric {
  device: string | undefined;
  name: string;
  metric: SparkplugMetric;
}

export interface ConnectivityChange {
  /** Undefined: the node itself and, when it goes offline, all of its devices with it. */
  device: string | undefined;
  online: boolean;
  reason: string;
}

export interface SessionOutcome {
  metrics: ResolvedMetric[];
  unresolved: { metric: SparkplugMetric; why: string }[];
  connectivity: ConnectivityChange[];
  /** Why the node should publish its births again; undefined when all is in order. */
  rebirth?: string;
}

interface NodeState {
  online: boolean;
  bdSeq: number | undefined;
  lastSeq: number | undefined;
  aliases: Map<number, string>;
  devices: Map<string, { online: boolean; aliases: Map<number, string> }>;
  lastRebirthRequestAt: number | undefined;
}

/** A node that ignores a rebirth request is not asked again more often than this. */
export const REBIRTH_REPEAT_MS = 5_000;
const SEQ_MODULO = 256;

export class SparkplugSessions {
  private readonly nodes = new Map<string, NodeState>();
  /** Each metric's datatype as its latest birth declared it, for typing commands. */
  private readonly types = new Map<string, string>();

  typeOf(group: string, node: string, device: string | undefined, metric: string): string | undefined {
    return this.types.get(JSON.stringify([group, node, device ?? null, metric]));
  }

  private rememberTypes(topic: SparkplugTopic, payload: SparkplugPayload): void {
    for (const m of payload.metrics) if (m.name !== undefined && m.type !== undefined) this.types.set(JSON.stringify([topic.group, topic.node, topic.device ?? null, m.name]), m.type);
  }

  handle(topic: SparkplugTopic, payload: SparkplugPayload, now: number): SessionOutcome {
    const key = `${topic.group}/${topic.node}`;
    const outcome: SessionOutcome = { metrics: [], unresolved: [], connectivity: [] };
    let node = this.nodes.get(key);
    let rebirth: string | undefined;

    if (topic.type === "NBIRTH" || topic.type === "DBIRTH") this.rememberTypes(topic, payload);
    if (topic.type === "NBIRTH") {
      node = { online: true, bdSeq: bdSeqOf(payload), lastSeq: payload.seq, aliases: aliasesOf(payload), devices: new Map(), lastRebirthRequestAt: undefined };
      this.nodes.set(key, node);
      outcome.connectivity.push({ device: undefined, online: true, reason: `NBIRTH ${key}` });
      outcome.metrics.push(...payload.metrics.filter((m) => m.name !== undefined).map((m) => ({ device: undefined, name: m.name!, metric: m })));
      return outcome;
    }
    if (topic.type === "NDEATH") {
      // A death carries the bdSeq of the connection it belongs to; a late will of an old one is not news.
      const bdSeq = bdSeqOf(payload);
      if (!node?.online || (bdSeq !== undefined && node.bdSeq !== undefined && bdSeq !== node.bdSeq)) return outcome;
      node.online = false;
      node.devices.forEach((device) => (device.online = false));
      outcome.connectivity.push({ device: undefined, online: false, reason: `NDEATH ${key}` });
      return outcome;
    }
    if (topic.type === "NCMD" || topic.type === "DCMD") return outcome; // commands (ours among them) are not data

    if (!node?.online) {
      outcome.unresolved.push(...payload.metrics.map((metric) => ({ metric, why: `edge node ${key} has not been born` })));
      return this.withRebirth(outcome, node, key, `${topic.type} from edge node ${key} before its NBIRTH`, now);
    }
    if (payload.seq !== undefined && node.lastSeq !== undefined) {
      const expected = (node.lastSeq + 1) % SEQ_MODULO;
      if (payload.seq !== expected) rebirth = `sequence gap on ${key}: expected ${expected}, got ${payload.seq}`;
    }
    if (payload.seq !== undefined) node.lastSeq = payload.seq;

    const deviceName = topic.device;
    if (topic.type === "DBIRTH" && deviceName !== undefined) {
      node.devices.set(deviceName, { online: true, aliases: aliasesOf(payload) });
      outcome.connectivity.push({ device: deviceName, online: true, reason: `DBIRTH ${key}/${deviceName}` });
    } else if (topic.type === "DDEATH" && deviceName !== undefined) {
      const device = node.devices.get(deviceName);
      if (device?.online) {
        device.online = false;
        outcome.connectivity.push({ device: deviceName, online: false, reason: `DDEATH ${key}/${deviceName}` });
      }
      return this.withRebirth(outcome, node, key, rebirth, now);
    }

    const aliases = deviceName === undefined ? node.aliases : node.devices.get(deviceName)?.online ? node.devices.get(deviceName)!.aliases : undefined;
    if (!aliases) {
      outcome.unresolved.push(...payload.metrics.map((metric) => ({ metric, why: `device ${key}/${deviceName} has not been born` })));
      return this.withRebirth(outcome, node, key, rebirth ?? `${topic.type} from device ${key}/${deviceName} before its DBIRTH`, now);
    }
    for (const metric of payload.metrics) {
      const name = metric.name ?? (metric.alias === undefined ? undefined : aliases.get(metric.alias));
      if (name !== undefined) outcome.metrics.push({ device: deviceName, name, metric });
      else {
        outcome.unresolved.push({ metric, why: `alias ${metric.alias ?? "(none)"} was not defined by a birth of ${key}` });
        rebirth ??= `unknown alias ${metric.alias ?? "(none)"} from ${key}`;
      }
    }
    return this.withRebirth(outcome, node, key, rebirth, now);
  }

  /** Adds the rebirth request unless the node was asked within REBIRTH_REPEAT_MS. */
  private withRebirth(outcome: SessionOutcome, node: NodeState | undefined, key: string, reason: string | undefined, now: number): SessionOutcome {
    if (reason === undefined) return outcome;
    const state = node ?? this.unborn(key);
    if (state.lastRebirthRequestAt !== undefined && now - state.lastRebirthRequestAt < REBIRTH_REPEAT_MS) return outcome;
    state.lastRebirthRequestAt = now;
    return { ...outcome, rebirth: reason };
  }

  private unborn(key: string): NodeState {
    const state: NodeState = { online: false, bdSeq: undefined, lastSeq: undefined, aliases: new Map(), devices: new Map(), lastRebirthRequestAt: undefined };
    this.nodes.set(key, state);
    return state;
  }
}

function aliasesOf(payload: SparkplugPayload): Map<number, string> {
  return new Map(payload.metrics.filter((m) => m.alias !== undefined && m.name !== undefined).map((m) => [m.alias!, m.name!]));
}

function bdSeqOf(payload: SparkplugPayload): number | undefined {
  const value = payload.metrics.find((m) => m.name === "bdSeq")?.value;
  return typeof value === "number" ? value : undefined;
}
