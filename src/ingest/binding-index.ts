import type { BindingRow } from "../assets/asset.queries.js";
import type { DataType } from "../../schema/db/assets.js";
import { hasWildcard, topicMatches } from "./topic-filter.js";

/** One data point's MQTT binding, resolved to a concrete topic filter. */
export interface Binding {
  readonly dataPointId: number;
  readonly machineId: number;
  readonly metric: string;
  readonly dataType: DataType;
  readonly topicFilter: string;
  /** Field of a JSON object payload; undefined: `value` of an object, or a bare value. */
  readonly field: string | undefined;
}

const LOOKUP_CACHE_LIMIT = 50_000;

/**
 * Maps an incoming topic to the data points bound to it. Exact topics are a map lookup; wildcard
 * filters are scanned once per distinct topic and the answer cached, so the hot path stays O(1).
 */
export class BindingIndex {
  private readonly exact = new Map<string, Binding[]>();
  private readonly wildcards: Binding[] = [];
  private readonly cache = new Map<string, readonly Binding[]>();
  readonly size: number;

  constructor(readonly bindings: readonly Binding[]) {
    for (const binding of bindings) {
      if (hasWildcard(binding.topicFilter)) this.wildcards.push(binding);
      else this.exact.set(binding.topicFilter, [...(this.exact.get(binding.topicFilter) ?? []), binding]);
    }
    this.size = bindings.length;
  }

  /** Points bound to a Sparkplug metric are read from there only (src/ingest/sparkplug). */
  static fromRows(rows: readonly BindingRow[]): BindingIndex {
    return new BindingIndex(rows.filter((row) => row.sparkplugGroup === null).map(bindingFromRow));
  }

  lookup(topic: string): readonly Binding[] {
    const cached = this.cache.get(topic);
    if (cached) return cached;
    const found = [...(this.exact.get(topic) ?? []), ...this.wildcards.filter((b) => topicMatches(b.topicFilter, topic))];
    if (this.cache.size >= LOOKUP_CACHE_LIMIT) this.cache.clear();
    this.cache.set(topic, found);
    return found;
  }

  /**
   * What the hub subscribes to: every enterprise's whole namespace (so a message on an unbound
   * topic there is quarantined as unknown rather than never seen) plus bindings outside them.
   */
  subscriptionFilters(): string[] {
    const roots = new Set(this.bindings.map((b) => enterpriseOf(b)).filter((r): r is string => r !== undefined));
    const filters = new Set([...roots].map((root) => `${root}/#`));
    for (const b of this.bindings) {
      const first = b.topicFilter.split("/")[0];
      if (first === undefined || !roots.has(first)) filters.add(b.topicFilter);
    }
    return [...filters].sort();
  }
}

function enterpriseOf(binding: Binding & { machinePath?: string }): string | undefined {
  return binding.machinePath?.split("/")[0];
}

/** Default topic: `<machine path>/<metric>`, or the machine path itself for a field of an object. */
export function bindingFromRow(row: BindingRow): Binding & { machinePath: string } {
  const topicFilter = row.mqttTopic ?? (row.mqttField ? row.machinePath : `${row.machinePath}/${row.name}`);
  return {
    dataPointId: row.dataPointId,
    machineId: row.machineId,
    metric: row.name,
    dataType: row.dataType,
    topicFilter,
    field: row.mqttField ?? undefined,
    machinePath: row.machinePath,
  };
}
