import type { BindingRow } from "../../assets/asset.queries.js";
import type { Binding } from "../binding-index.js";
import { groupFilter } from "./sparkplug.topic.js";

/** A data point as the Sparkplug path needs it: where to store a metric's value. */
export type SparkplugBinding = Pick<Binding, "dataPointId" | "machineId" | "metric" | "dataType">;

const key = (group: string, node: string, device: string | undefined, metric: string) => JSON.stringify([group, node, device ?? null, metric]);
const nodeKey = (group: string, node: string) => `${group}/${node}`;

/**
 * Data points bound to Sparkplug metrics, by (group, edge node, device, metric name), and the
 * machines behind each edge node and device (whose connectivity a birth or death changes).
 */
export class SparkplugBindings {
  private readonly byMetric = new Map<string, SparkplugBinding[]>();
  private readonly machinesByNode = new Map<string, { device: string | undefined; machineId: number }[]>();
  private readonly groups = new Set<string>();

  constructor(rows: readonly BindingRow[]) {
    for (const row of rows) {
      if (row.sparkplugGroup === null || row.sparkplugNode === null) continue;
      const device = row.sparkplugDevice ?? undefined;
      const k = key(row.sparkplugGroup, row.sparkplugNode, device, row.sparkplugMetric ?? row.name);
      const binding = { dataPointId: row.dataPointId, machineId: row.machineId, metric: row.name, dataType: row.dataType };
      this.byMetric.set(k, [...(this.byMetric.get(k) ?? []), binding]);
      const machines = this.machinesByNode.get(nodeKey(row.sparkplugGroup, row.sparkplugNode)) ?? [];
      if (!machines.some((m) => m.device === device && m.machineId === row.machineId)) machines.push({ device, machineId: row.machineId });
      this.machinesByNode.set(nodeKey(row.sparkplugGroup, row.sparkplugNode), machines);
      this.groups.add(row.sparkplugGroup);
    }
  }

  get size(): number {
    return this.byMetric.size;
  }

  lookup(group: string, node: string, device: string | undefined, metric: string): readonly SparkplugBinding[] {
    return this.byMetric.get(key(group, node, device, metric)) ?? [];
  }

  /** Machines fed by the edge node and all its devices, or by one device (undefined: the node's own metrics). */
  machinesOf(group: string, node: string, which: "all" | { device: string | undefined }): number[] {
    const machines = (this.machinesByNode.get(nodeKey(group, node)) ?? []).filter((m) => which === "all" || m.device === which.device);
    return [...new Set(machines.map((m) => m.machineId))];
  }

  /** Every machine fed by a bound Sparkplug metric. */
  machineIds(): number[] {
    return [...new Set([...this.machinesByNode.values()].flatMap((machines) => machines.map((m) => m.machineId)))];
  }

  subscriptionFilters(): string[] {
    return [...this.groups].sort().map(groupFilter);
  }
}
