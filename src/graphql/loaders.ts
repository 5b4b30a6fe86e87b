import { bindingsOfDataPoints, type BindingRow } from "../opcua/opcua-binding.service.js";
import DataLoader from "dataloader";
import {
  areasBySite,
  dataPointsById,
  dataPointsByMachine,
  linesByArea,
  machinesByLine,
  rowsById,
  sitesByEnterprise,
  type AreaRow,
  type assetTables,
  type DataPointRow,
  type LineRow,
  type MachineRow,
  type SiteRow,
} from "../assets/asset.queries.js";
import { limitsOfPoints, methodsOfMachines, type ActuationLimitRow, type MachineMethodRow } from "../actuation/actuation-targets.store.js";
import { openIntervals, type StateInterval } from "../availability/state.store.js";
import { machinesInMaintenance } from "../tasks/task.service.js";
import { disconnectedMachines } from "../telemetry/connectivity.store.js";
import type { LatestValue } from "../telemetry/latest-values.js";
import type { GraphqlDeps } from "./context.js";
import { tasksOf, type TaskWithIntegration } from "./task/task.queries.js";

type AssetKind = keyof typeof assetTables;

function byId<K extends AssetKind>(deps: GraphqlDeps, kind: K) {
  return new DataLoader<number, (typeof assetTables)[K]["$inferSelect"] | undefined>(async (ids) => {
    const rows = await rowsById(deps.database.db, kind, ids);
    const found = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => found.get(id));
  });
}

function grouped<Row>(load: (ids: readonly number[]) => Promise<Row[]>, keyOf: (row: Row) => number, cache = true) {
  return new DataLoader<number, Row[]>(
    async (ids) => {
      const groups = new Map<number, Row[]>(ids.map((id) => [id, []]));
      for (const row of await load(ids)) groups.get(keyOf(row))?.push(row);
      return ids.map((id) => groups.get(id) ?? []);
    },
    { cache },
  );
}

/** Per-request batching, so a page of machines with their metrics costs a handful of queries. */
export function createLoaders(deps: GraphqlDeps) {
  const db = deps.database.db;
  return {
    enterprise: byId(deps, "Enterprise"),
    site: byId(deps, "Site"),
    area: byId(deps, "Area"),
    line: byId(deps, "Line"),
    machine: byId(deps, "Machine"),
    dataPoint: new DataLoader<number, DataPointRow | undefined>(async (ids) => {
      const found = new Map((await dataPointsById(db, ids)).map((r) => [r.id, r]));
      return ids.map((id) => found.get(id));
    }),
    sitesOfEnterprise: grouped<SiteRow>((ids) => sitesByEnterprise(db, ids), (r) => r.enterpriseId),
    areasOfSite: grouped<AreaRow>((ids) => areasBySite(db, ids), (r) => r.siteId),
    linesOfArea: grouped<LineRow>((ids) => linesByArea(db, ids), (r) => r.areaId),
    machinesOfLine: grouped<MachineRow>((ids) => machinesByLine(db, ids), (r) => r.lineId),
    dataPointsOfMachine: grouped<DataPointRow>((ids) => dataPointsByMachine(db, ids), (r) => r.machineId),
    latest: new DataLoader<number, LatestValue | undefined>((ids) => deps.latest.get(ids)),
    opcuaBinding: new DataLoader<number, BindingRow | undefined>(async (ids) => {
      const found = new Map((await bindingsOfDataPoints(db, ids)).map((r) => [r.dataPointId, r]));
      return ids.map((id) => found.get(id));
    }),
    // Batched but never cached: a subscription keeps its context, and tasks change under it.
    tasksOfAlarm: grouped<TaskWithIntegration>((ids) => tasksOf(db, "alarmId", ids), (r) => r.task.alarmId!, false),
    tasksOfEvent: grouped<TaskWithIntegration>((ids) => tasksOf(db, "eventId", ids), (r) => r.task.eventId, false),
    tasksOfMachine: grouped<TaskWithIntegration>((ids) => tasksOf(db, "machineId", ids), (r) => r.task.machineId!, false),
    actuationOfPoint: grouped<ActuationLimitRow>((ids) => limitsOfPoints(db, ids), (r) => r.dataPointId),
    methodsOfMachine: grouped<MachineMethodRow>((ids) => methodsOfMachines(db, ids), (r) => r.machineId),
    // Not cached: a subscription keeps its context while states change.
    openInterval: new DataLoader<number, StateInterval | undefined>(async (ids) => {
      const found = new Map((await openIntervals(db, ids)).map((i) => [i.machineId, i]));
      return ids.map((id) => found.get(id));
    }, { cache: false }),
    inMaintenance: new DataLoader<number, boolean>(async (ids) => {
      const busy = await machinesInMaintenance(db, ids);
      return ids.map((id) => busy.has(id));
    }, { cache: false }),
    disconnected: new DataLoader<number, boolean>(async (ids) => {
      const offline = await disconnectedMachines(db, ids);
      return ids.map((id) => offline.has(id));
    }, { cache: false }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
