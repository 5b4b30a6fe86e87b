/** Sparkplug B topics: `spBv1.0/<group>/<type>/<edge node>[/<device>]` and the host's `spBv1.0/STATE/<host id>`. */

export const SPARKPLUG_NAMESPACE = "spBv1.0";

export const messageTypes = ["NBIRTH", "NDEATH", "NDATA", "NCMD", "DBIRTH", "DDEATH", "DDATA", "DCMD"] as const;
export type SparkplugMessageType = (typeof messageTypes)[number];

export interface SparkplugTopic {
  group: string;
  type: SparkplugMessageType;
  node: string;
  /** Set on device-level types (DBIRTH, DDEATH, DDATA, DCMD) only. */
  device?: string;
}

export const isSparkplugTopic = (topic: string) => topic.startsWith(`${SPARKPLUG_NAMESPACE}/`);

/** Undefined for anything that is not an edge node's or device's message (STATE, malformed). */
export function parseSparkplugTopic(topic: string): SparkplugTopic | undefined {
  const [namespace, group, type, node, device, ...rest] = topic.split("/");
  if (namespace !== SPARKPLUG_NAMESPACE || !group || !node || rest.length > 0) return undefined;
  if (!(messageTypes as readonly string[]).includes(type ?? "")) return undefined;
  const deviceLevel = type!.startsWith("D");
  if (deviceLevel !== (device !== undefined && device !== "")) return undefined;
  return { group, type: type as SparkplugMessageType, node, ...(deviceLevel ? { device } : {}) };
}

export function sparkplugTopic(t: SparkplugTopic): string {
  return [SPARKPLUG_NAMESPACE, t.group, t.type, t.node, ...(t.device === undefined ? [] : [t.device])].join("/");
}

export const stateTopic = (hostId: string) => `${SPARKPLUG_NAMESPACE}/STATE/${hostId}`;
export const groupFilter = (group: string) => `${SPARKPLUG_NAMESPACE}/${group}/#`;
