import { eq, sql } from "drizzle-orm";
import { integrations } from "../../schema/db/security.js";
import { deleteAutomation, listAutomations, saveAutomation } from "../automations/automation.service.js";
import type { ValidAutomation } from "../automations/automation.schema.js";
import { canonicalJson } from "../db/canonical-json.js";
import type { Tx } from "../db/database.js";
import { createIntegration, integrationByName, updateIntegration } from "../integrations/integration.service.js";
import { deleteRule, rulesOfMachines, saveRule } from "../rules/rule.service.js";
import { removeBinding, setBinding } from "../opcua/opcua-binding.service.js";
import { createEndpoint, endpointByName, specOf, updateEndpoint } from "../opcua/opcua-endpoint.service.js";
import type { BindingSpec, EndpointSpec } from "../opcua/opcua.rules.js";
import type { MethodSpec } from "../actuation/actuation.rules.js";
import type { IntegrationFileSpec, RuleFileSpec } from "./plant-file.js";

/**
 * The plant file's rules, integrations and automations, applied inside applyPlant's transaction
 * through the same services as the GraphQL mutations (their own transactions become savepoints).
 */

/** Who the audit trail names for changes made by applying a plant file. */
export const PLANT_FILE_ACTOR = "plant-file";

export type Change = "created" | "updated" | "unchanged";
type Count = (change: Change) => void;
type Path = (string | number)[];

/** The file refers to something the database contradicts or lacks; `path` is a path of the file. */
export class PlantReferenceError extends Error {
  constructor(readonly problems: { path: Path; message: string }[]) {
    super(problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("\n"));
    this.name = "PlantReferenceError";
  }
}

/** Saves the machine's rules (unchanged ones stay at their version); with `prune` deletes its rules the file does not list. */
export async function applyRules(tx: Tx, machineId: number, specs: readonly RuleFileSpec[], prune: boolean, count: Count): Promise<number> {
  const current = new Map((await rulesOfMachines(tx, [machineId])).map((row) => [row.name, row]));
  for (const spec of specs) {
    const saved = await saveRule(tx, { machineId, dataPoint: spec.point, name: spec.name, severity: spec.severity, enabled: spec.enabled, params: spec.params }, PLANT_FILE_ACTOR);
    count(saved.change);
  }
  if (!prune) return 0;
  const listed = new Set(specs.map((s) => s.name));
  return deleteRules(tx, [...current.values()].filter((row) => !listed.has(row.name)).map((row) => row.id));
}

/** Deletes the rules of machines about to be pruned, so each is audited and counted. */
export async function deleteRulesOfMachines(tx: Tx, machineIds: readonly number[]): Promise<number> {
  return deleteRules(tx, (await rulesOfMachines(tx, machineIds)).map((row) => row.id));
}

async function deleteRules(tx: Tx, ids: readonly number[]): Promise<number> {
  let deleted = 0;
  for (const id of ids) if (await deleteRule(tx, id, PLANT_FILE_ACTOR)) deleted++;
  return deleted;
}

/**
 * Creates the integrations the database lacks and brings config and site in line; secrets are
 * never touched (the file has none). Never deletes one. Throws PlantReferenceError when a name
 * is taken by an integration of another kind.
 */
export async function applyIntegrations(tx: Tx, specs: readonly IntegrationFileSpec[], count: Count): Promise<void> {
  const by = { actor: PLANT_FILE_ACTOR };
  const problems: PlantReferenceError["problems"] = [];
  for (const [i, spec] of specs.entries()) {
    const row = await integrationByName(tx, spec.name);
    if (!row) {
      // No box: an integration created without secrets is stored as having none ("none" key id).
      await createIntegration(tx, undefined, { kind: spec.kind, name: spec.name, site: spec.site, config: spec.config }, by);
      count("created");
      continue;
    }
    if (row.kind !== spec.kind) {
      problems.push({ path: ["integrations", i, "kind"], message: `integration "${spec.name}" exists with kind "${row.kind}"; its kind cannot change` });
      continue;
    }
    const configChanged = canonicalJson(row.config) !== canonicalJson(spec.config);
    if (configChanged) await updateIntegration(tx, undefined, row.id, { config: spec.config }, by);
    if (row.site !== spec.site) {
      await tx.update(integrations).set({ site: spec.site, updatedAt: sql`now()`, version: sql`${integrations.version} + 1` }).where(eq(integrations.id, row.id));
    }
    count(configChanged || row.site !== spec.site ? "updated" : "unchanged");
  }
  if (problems.length > 0) throw new PlantReferenceError(problems);
}

/**
 * Saves the automations by name; with `prune` deletes every automation the file does not list
 * (automations are hub-wide). Throws PlantReferenceError, before writing any, when an action
 * names an integration that does not exist (the file's own are created first).
 */
export async function applyAutomations(tx: Tx, specs: readonly ValidAutomation[], prune: boolean, count: Count): Promise<number> {
  const problems: PlantReferenceError["problems"] = [];
  const known = new Map<string, boolean>();
  for (const [a, spec] of specs.entries()) {
    for (const [i, action] of spec.actions.entries()) {
      if (action.type === "actuate" || action.type === "next_lot") continue; // acts on the event's machine, through no integration
      if (!known.has(action.integration)) known.set(action.integration, (await integrationByName(tx, action.integration)) !== undefined);
      if (known.get(action.integration)) continue;
      const message = `no integration "${action.integration}": declare it under integrations or create it first`;
      problems.push({ path: ["automations", a, "actions", i, "integration"], message });
    }
  }
  if (problems.length > 0) throw new PlantReferenceError(problems);

  const current = new Map((await listAutomations(tx)).map((row) => [row.name, row]));
  for (const spec of specs) {
    count((await saveAutomation(tx, spec, PLANT_FILE_ACTOR)).change);
  }
  if (!prune) return 0;
  const listed = new Set(specs.map((s) => s.name));
  let deleted = 0;
  for (const row of current.values()) {
    if (!listed.has(row.name) && (await deleteAutomation(tx, row.id, PLANT_FILE_ACTOR))) deleted++;
  }
  return deleted;
}

/**
 * Creates the OPC UA endpoints the database lacks and brings the others' settings in line; their
 * secrets are never touched (the file has none) and none is ever deleted.
 */
export async function applyOpcuaEndpoints(tx: Tx, specs: readonly EndpointSpec[], count: Count): Promise<void> {
  const by = { actor: PLANT_FILE_ACTOR };
  for (const spec of specs) {
    const row = await endpointByName(tx, spec.name);
    if (!row) {
      await createEndpoint(tx, undefined, spec, undefined, by);
      count("created");
    } else if (canonicalJson(specOf(row)) !== canonicalJson(spec)) {
      await updateEndpoint(tx, undefined, row.id, spec, undefined, by);
      count("updated");
    } else count("unchanged");
  }
}

/**
 * Binds the data point to its OPC UA node, or removes its binding when the file gives none (the
 * file describes the point completely). An endpoint neither in the file nor in the database is a
 * problem reported at `path`.
 */
export async function applyOpcuaBinding(tx: Tx, dataPointId: number, spec: BindingSpec | undefined, path: Path, problems: PlantReferenceError["problems"], count: Count): Promise<void> {
  if (!spec) {
    if (await removeBinding(tx, dataPointId, { actor: PLANT_FILE_ACTOR })) count("updated");
    return;
  }
  const endpoint = await endpointByName(tx, spec.endpoint);
  if (!endpoint) {
    problems.push({ path: [...path, "endpoint"], message: `no OPC UA endpoint "${spec.endpoint}": declare it under opcuaEndpoints or create it first` });
    return;
  }
  count((await setBinding(tx, dataPointId, endpoint.id, spec, { actor: PLANT_FILE_ACTOR })).change);
}

/** An OPC UA method calls on an endpoint by name: one neither in the file nor in the database is a problem reported at `path`. */
export async function checkMethodEndpoints(tx: Tx, methods: readonly MethodSpec[], path: Path, problems: PlantReferenceError["problems"]): Promise<void> {
  for (const [i, method] of methods.entries()) {
    if (method.endpoint !== undefined && !(await endpointByName(tx, method.endpoint))) {
      problems.push({ path: [...path, i, "endpoint"], message: `no OPC UA endpoint "${method.endpoint}": declare it under opcuaEndpoints or create it first` });
    }
  }
}
