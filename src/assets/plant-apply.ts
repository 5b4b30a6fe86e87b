import { readFile } from "node:fs/promises";
import { and, eq, notInArray, sql } from "drizzle-orm";
import { areas, enterprises, lines, machines, sites } from "../../schema/db/assets.js";
import type { Database, Tx } from "../db/database.js";
import { setRetentionPolicy, type PolicyChange } from "../lifecycle/retention-policy.js";
import type { Logger } from "../log/logger.js";
import {
  dataPointsNotIn,
  deleteDataPoints,
  deleteMachine,
  upsertDataPoint,
  upsertMachine,
  upsertParents,
  type Upserted,
} from "./asset.service.js";
import { recordAudit } from "../audit/audit.js";
import { saveActuationLimits, saveMachineMethods } from "../actuation/actuation-targets.store.js";
import { saveStateConfig } from "../availability/state-config.service.js";
import { saveCalendar } from "../calendar/calendar.service.js";
import { applyAutomations, applyIntegrations, applyOpcuaBinding, applyOpcuaEndpoints, applyRules, checkMethodEndpoints, deleteRulesOfMachines, PLANT_FILE_ACTOR, PlantReferenceError } from "./plant-apply.workflows.js";
import { formatPlantFileError, parsePlantFile, type PlantFileError, type PlantSpec } from "./plant-file.js";

/**
 * Applies a declarative plant file to the asset model in one transaction: every entity the file
 * lists is created or brought in line with it, and with `prune` whatever of the file's enterprise
 * it no longer lists (machines, data points, rules of its machines) is deleted with its telemetry,
 * and so is every automation it does not list. Integrations are created or updated, never deleted
 * (they hold secrets the file does not have).
 */

export interface ApplySummary {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

export interface ApplyOptions {
  /**
   * Delete machines of the enterprise, data points and rules of listed machines, and automations
   * (hub-wide) that the file no longer lists.
   */
  prune?: boolean;
}

/** The file did not validate; nothing was written. The message lists every error with its line. */
export class PlantFileRejected extends Error {
  constructor(
    readonly fileName: string,
    readonly errors: PlantFileError[],
  ) {
    super(errors.map((e) => formatPlantFileError(fileName, e)).join("\n"));
    this.name = "PlantFileRejected";
  }
}

export async function applyPlant(database: Database, plant: PlantSpec, options: ApplyOptions = {}): Promise<ApplySummary> {
  return database.db.transaction(async (tx) => {
    // Two replicas booting with the same file must not race each other's inserts.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`plantgraph.plant-apply:${plant.enterprise}`}))`);
    // Integrations and automations are hub-wide: files of different enterprises must not race on them.
    const integrationSpecs = plant.integrations ?? [];
    const automationSpecs = plant.automations ?? [];
    const endpointSpecs = plant.opcuaEndpoints ?? [];
    const hubWide = options.prune === true || integrationSpecs.length > 0 || automationSpecs.length > 0 || endpointSpecs.length > 0;
    if (hubWide) await tx.execute(sql`select pg_advisory_xact_lock(hashtext('plantgraph.plant-apply:hub'))`);

    const summary: ApplySummary = { created: 0, updated: 0, unchanged: 0, deleted: 0 };
    const count = (change: Upserted["change"]) => void summary[change]++;
    // A retention policy is part of its site or point: only a change counts.
    const countPolicy = (change: PolicyChange) => void (change !== "unchanged" && summary[change]++);
    // upsertMachine reports the whole parent chain for every machine: count each parent once.
    const seenParents = new Set<string>();
    const countParents = (chain: Upserted[]) =>
      chain.forEach((parent, level) => {
        const key = `${level}:${parent.id}`;
        if (seenParents.has(key)) return;
        seenParents.add(key);
        count(parent.change);
      });

    // Endpoints first: the data points below bind to them by name.
    await applyOpcuaEndpoints(tx, endpointSpecs, count);
    const bindingProblems: PlantReferenceError["problems"] = [];
    const keptMachines: number[] = [];
    const enterprise = plant.enterprise;
    // Levels without machines still exist in the model: the file declares them (and a site's time zone).
    if (plant.sites.length === 0) countParents(await upsertParents(tx, { enterprise }));
    for (const [s, site] of plant.sites.entries()) {
      const timezone = site.timezone;
      if (site.areas.length === 0) countParents(await upsertParents(tx, { enterprise, site: site.name, timezone }));
      // A calendar in the file replaces the stored one; none leaves it as planners set it.
      if (site.calendar) {
        const chain = await upsertParents(tx, { enterprise, site: site.name, timezone });
        countParents(chain);
        count(await saveCalendar(tx, { siteId: chain[1]!.id }, site.calendar, PLANT_FILE_ACTOR));
      }
      for (const [a, area] of site.areas.entries()) {
        if (area.lines.length === 0) {
          countParents(await upsertParents(tx, { enterprise, site: site.name, area: area.name, timezone }));
        }
        for (const [l, line] of area.lines.entries()) {
          const at = { enterprise, site: site.name, area: area.name, line: line.name, timezone };
          if (line.machines.length === 0) countParents(await upsertParents(tx, at));
          if (line.calendar) {
            const chain = await upsertParents(tx, at);
            countParents(chain);
            count(await saveCalendar(tx, { siteId: chain[1]!.id, lineId: chain[3]!.id }, line.calendar, PLANT_FILE_ACTOR));
          }
          for (const [m, spec] of line.machines.entries()) {
            // The file describes the machine completely: no display name in the file clears it.
            const machine = await upsertMachine(tx, { ...at, name: spec.name, displayName: spec.displayName ?? null });
            countParents(machine.parents);
            count(machine.change);
            keptMachines.push(machine.id);

            const keptPoints: number[] = [];
            for (const [p, point] of spec.dataPoints.entries()) {
              const upserted = await upsertDataPoint(tx, machine.id, point);
              const limitsChanged = await saveActuationLimits(tx, upserted.id, point.actuation);
              count(upserted.change === "unchanged" && limitsChanged ? "updated" : upserted.change);
              countPolicy(await setRetentionPolicy(tx, { dataPointId: upserted.id }, point.retention, PLANT_FILE_ACTOR));
              keptPoints.push(upserted.id);
              const at = ["sites", s, "areas", a, "lines", l, "machines", m, "dataPoints", p, "opcua"];
              await applyOpcuaBinding(tx, upserted.id, point.opcua, at, bindingProblems, count);
            }
            if (spec.state) count(await saveStateConfig(tx, machine.id, spec.state, PLANT_FILE_ACTOR));
            // Rules first: a rule moved off a data point the prune below deletes must not go with it.
            summary.deleted += await applyRules(tx, machine.id, spec.rules ?? [], options.prune === true, count);
            await checkMethodEndpoints(tx, spec.methods ?? [], ["sites", s, "areas", a, "lines", l, "machines", m, "methods"], bindingProblems);
            summary.deleted += await saveMachineMethods(tx, machine.id, spec.methods ?? [], options.prune === true, count);
            if (options.prune) {
              summary.deleted += await deleteDataPoints(tx, await dataPointsNotIn(tx, machine.id, keptPoints));
            }
          }
        }
      }
    }

    if (bindingProblems.length > 0) throw new PlantReferenceError(bindingProblems);

    for (const site of plant.sites) {
      const [, siteRow] = await upsertParents(tx, { enterprise, site: site.name });
      countPolicy(await setRetentionPolicy(tx, { siteId: siteRow!.id }, site.retention, PLANT_FILE_ACTOR));
    }

    if (options.prune) {
      for (const machineId of await machinesOfEnterpriseNotIn(tx, enterprise, keptMachines)) {
        // Delete the rules and points first so they are counted; deleteMachine then finds none left.
        summary.deleted += await deleteRulesOfMachines(tx, [machineId]);
        summary.deleted += await deleteDataPoints(tx, await dataPointsNotIn(tx, machineId, []));
        if (await deleteMachine(tx, machineId)) summary.deleted++;
      }
    }

    await applyIntegrations(tx, integrationSpecs, count);
    summary.deleted += await applyAutomations(tx, automationSpecs, options.prune === true, count);
    if (summary.created + summary.updated + summary.deleted > 0) {
      await recordAudit(tx, { actor: PLANT_FILE_ACTOR, action: "plant.applied", entityType: "enterprise", entityId: enterprise, newValue: { ...summary, prune: options.prune === true } });
    }
    return summary;
  });
}

/**
 * Validates `text` and applies it; throws PlantFileRejected (nothing written) when invalid, also
 * when it names integrations the database lacks or contradicts.
 */
export async function applyPlantText(
  database: Database,
  text: string,
  fileName: string,
  log: Logger,
  options: ApplyOptions = {},
): Promise<ApplySummary> {
  const parsed = parsePlantFile(text);
  if (!parsed.ok) throw new PlantFileRejected(fileName, parsed.errors);
  const started = performance.now();
  const summary = await applyPlant(database, parsed.plant, options).catch((error: unknown) => {
    if (!(error instanceof PlantReferenceError)) throw error;
    throw new PlantFileRejected(fileName, error.problems.map(({ path, message }) => parsed.errorAt(path, message)));
  });
  log.info(
    {
      file: fileName,
      enterprise: parsed.plant.enterprise,
      prune: options.prune === true,
      ...summary,
      durationMs: Math.round(performance.now() - started),
    },
    "plant file applied",
  );
  return summary;
}

export async function applyPlantFile(
  database: Database,
  filePath: string,
  log: Logger,
  options: ApplyOptions = {},
): Promise<ApplySummary> {
  const text = await readFile(filePath, "utf8");
  return applyPlantText(database, text, filePath, log, options);
}

/** Machines anywhere under the enterprise whose ids are not in `keep`. */
async function machinesOfEnterpriseNotIn(tx: Tx, enterprise: string, keep: number[]): Promise<number[]> {
  const rows = await tx
    .select({ id: machines.id })
    .from(machines)
    .innerJoin(lines, eq(lines.id, machines.lineId))
    .innerJoin(areas, eq(areas.id, lines.areaId))
    .innerJoin(sites, eq(sites.id, areas.siteId))
    .innerJoin(enterprises, eq(enterprises.id, sites.enterpriseId))
    .where(keep.length ? and(eq(enterprises.name, enterprise), notInArray(machines.id, keep)) : eq(enterprises.name, enterprise));
  return rows.map((r) => r.id);
}
