import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { z } from "zod";
import { connectors } from "../../connectors/index.js";
import { methodSpec, type MethodSpec } from "../actuation/actuation.rules.js";
import type { Severity } from "../../schema/db/events.js";
import { automationSpec, type ValidAutomation } from "../automations/automation.schema.js";
import { integrationSpec } from "../integrations/integration.service.js";
import { ruleSpec } from "../rules/rule.service.js";
import { retentionSpec, type RetentionSpec } from "../lifecycle/retention-policy.js";
import { ruleParams, type RuleParams } from "../rules/rule.schema.js";
import { sparkplugId } from "../ingest/sparkplug/sparkplug.rules.js";
import { machineStateConfig, type MachineStateConfig } from "../availability/state-config.js";
import { calendarSpec, type CalendarSpec } from "../calendar/calendar.schema.js";
import { bindingSpec, endpointSpec, type BindingSpec, type EndpointSpec } from "../opcua/opcua.rules.js";
import { assetName, dataPointSpec, timezone, type DataPointSpec } from "./asset.rules.js";

/**
 * The declarative plant file: one enterprise's ISA-95 asset model in YAML. Pure: text in, either the
 * typed spec or every error with its line and column out.
 */

/** Parsing always fills the lists; a spec built in code may leave out what it does not use. */
export interface PlantSpec { enterprise: string; sites: SiteSpec[]; integrations?: IntegrationFileSpec[]; automations?: ValidAutomation[]; opcuaEndpoints?: EndpointSpec[] }
export interface SiteSpec { name: string; timezone: string; areas: AreaSpec[]; retention?: RetentionSpec; calendar?: CalendarSpec }
export interface AreaSpec { name: string; lines: LineSpec[] }
export interface LineSpec { name: string; machines: MachineSpec[]; calendar?: CalendarSpec }
export interface MachineSpec { name: string; displayName?: string; dataPoints: DataPointFileSpec[]; rules?: RuleFileSpec[]; methods?: MethodSpec[]; state?: MachineStateConfig }
/** A data point as the file declares it: the shared spec plus its own retention and OPC UA binding, when it has them. */
export type DataPointFileSpec = DataPointSpec & { retention?: RetentionSpec; opcua?: BindingSpec };
/** A rule on one of its machine's data points; in the file its params sit flat beside the name. */
export interface RuleFileSpec { name: string; point: string; severity: Severity; enabled: boolean; params: RuleParams }
/** An integration without its secrets: those are set over GraphQL, never in a file. */
export interface IntegrationFileSpec { name: string; kind: string; site: string | null; config: Record<string, unknown> }

/** 1-based line and column; `path` like `sites[0].areas[1].name`, empty for the whole file. */
export interface PlantFileError { line: number; column: number; path: string; message: string }
/** `errorAt` places an error found later (applying) at a path of the file, e.g. `["automations", 0, "name"]`. */
export type PlantFileResult =
  | { ok: true; plant: PlantSpec; errorAt: (path: Path, message: string) => PlantFileError }
  | { ok: false; errors: PlantFileError[] };

type Path = readonly PropertyKey[];
type Locate = (path: Path) => { line: number; column: number };

// The data point's fields come from the shared rules so the file and the GraphQL mutations agree.
const point = dataPointSpec.shape;

const normalRange = z
  .strictObject({ min: point.normalMin, max: point.normalMax })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
    message: "normal range minimum must not exceed its maximum",
    path: ["min"],
  });

const plantDataPoint = z
  .strictObject({
    name: point.name,
    unit: point.unit,
    dataType: point.dataType,
    normalRange: normalRange.optional(),
    mqtt: z.strictObject({ topic: point.mqttTopic, field: point.mqttField }).optional(),
    retention: retentionSpec.optional(),
    opcua: bindingSpec.optional(),
    sparkplug: z
      .strictObject({ group: sparkplugId, node: sparkplugId, device: point.sparkplugDevice, metric: point.sparkplugMetric })
      .optional(),
    actuation: point.actuation,
  })
  .refine((p) => p.actuation?.transport !== "sparkplug" || p.sparkplug !== undefined, {
    message: "Sparkplug actuation writes through the point's Sparkplug binding: add sparkplug: { group, node }",
    path: ["actuation", "transport"],
  })
  .refine((p) => p.actuation?.transport !== "opcua" || p.opcua !== undefined, {
    message: "OPC UA actuation writes through the point's OPC UA binding: add opcua: { endpoint, nodeId }",
    path: ["actuation", "transport"],
  })
  .transform(({ normalRange, mqtt, sparkplug, actuation, retention, opcua, ...rest }): DataPointFileSpec => {
    const spec: DataPointFileSpec = { ...rest };
    if (retention) spec.retention = retention;
    if (opcua !== undefined) spec.opcua = opcua;
    if (actuation !== undefined) spec.actuation = actuation;
    if (sparkplug !== undefined) {
      spec.sparkplugGroup = sparkplug.group;
      spec.sparkplugNode = sparkplug.node;
      if (sparkplug.device !== undefined) spec.sparkplugDevice = sparkplug.device;
      if (sparkplug.metric !== undefined) spec.sparkplugMetric = sparkplug.metric;
    }
    if (normalRange?.min !== undefined) spec.normalMin = normalRange.min;
    if (normalRange?.max !== undefined) spec.normalMax = normalRange.max;
    if (mqtt?.topic !== undefined) spec.mqttTopic = mqtt.topic;
    if (mqtt?.field !== undefined) spec.mqttField = mqtt.field;
    return spec;
  });

/** A key written with no items (`machines:`) parses as null; treat it like an omitted key. */
function list<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .nullish()
    .transform((items) => items ?? []);
}

// A rule's own keys; every other key of the item is a parameter of its kind (the same schemas as GraphQL).
const ruleKeys = z.strictObject({
  name: ruleSpec.shape.name,
  point: z.string({ error: "expected the name of one of the machine's data points" }).min(1),
  severity: ruleSpec.shape.severity,
  enabled: ruleSpec.shape.enabled,
});
const ownRuleKeys = new Set(Object.keys(ruleKeys.shape));

const plantRule = z.unknown().transform((item, ctx): RuleFileSpec => {
  if (!isRecord(item)) {
    ctx.addIssue({ code: "custom", message: "expected a rule: name, point, kind and its parameters" });
    return z.NEVER;
  }
  const entries = Object.entries(item);
  const own = ruleKeys.safeParse(Object.fromEntries(entries.filter(([key]) => ownRuleKeys.has(key))));
  const params = ruleParams.safeParse(Object.fromEntries(entries.filter(([key]) => !ownRuleKeys.has(key))));
  // Both halves report, so a bad name and a misspelt parameter show up together.
  for (const issue of [...(own.error?.issues ?? []), ...(params.error?.issues ?? [])]) ctx.addIssue(issue as z.core.$ZodRawIssue);
  return own.success && params.success ? { ...own.data, params: params.data } : z.NEVER;
});

const SECRETS_REFUSED = "secrets never go in a plant file: set them with the updateIntegration GraphQL mutation";
const knownKinds = [...connectors.keys()].sort();
// The connector's config schema is not checked here: without the secrets it would not pass.
const plantIntegration = z
  .strictObject({
    name: integrationSpec.shape.name,
    kind: integrationSpec.shape.kind.refine((kind) => connectors.has(kind), { error: `expected a connector kind: ${knownKinds.join(", ")}` }),
    site: integrationSpec.shape.site,
    config: z.record(z.string(), z.unknown(), { error: "expected an object" }).nullish(),
    secrets: z.unknown().refine(() => false, { error: SECRETS_REFUSED }).optional(),
  })
  .transform(({ name, kind, site, config }): IntegrationFileSpec => ({ name, kind, site, config: config ?? {} }));

const plantEndpoint = z.unknown().transform((item, ctx): EndpointSpec => {
  if (isRecord(item) && "secrets" in item) {
    ctx.addIssue({ code: "custom", path: ["secrets"], message: "secrets never go in a plant file: set them with the updateOpcuaEndpoint GraphQL mutation" });
  }
  const parsed = endpointSpec.safeParse(isRecord(item) ? Object.fromEntries(Object.entries(item).filter(([key]) => key !== "secrets")) : item);
  for (const issue of parsed.error?.issues ?? []) ctx.addIssue(issue as z.core.$ZodRawIssue);
  return parsed.success ? parsed.data : z.NEVER;
});

const machine = z.strictObject({
  name: assetName,
  displayName: z.string().min(1).max(128).optional(),
  dataPoints: list(plantDataPoint),
  rules: list(plantRule),
  methods: list(methodSpec),
  state: machineStateConfig.optional(),
});
const line = z.strictObject({ name: assetName, machines: list(machine), calendar: calendarSpec.optional() });
const area = z.strictObject({ name: assetName, lines: list(line) });
const site = z.strictObject({ name: assetName, timezone: timezone.default("UTC"), retention: retentionSpec.optional(), areas: list(area), calendar: calendarSpec.optional() });
const plantFile = z.strictObject({
  enterprise: assetName,
  sites: list(site),
  integrations: list(plantIntegration),
  automations: list(automationSpec),
  opcuaEndpoints: list(plantEndpoint),
});

export function parsePlantFile(text: string): PlantFileResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  // A document that failed to parse would only add noise as validation errors.
  if (doc.errors.length > 0) {
    return fail(doc.errors.map((e) => ({ ...at(e.pos[0]), path: "", message: e.message })));
  }
  if (!isMap(doc.contents)) {
    const found = doc.contents === null ? "an empty file" : isSeq(doc.contents) ? "a list" : "a single value";
    const offset = doc.contents?.range[0] ?? 0;
    return fail([{ ...at(offset), path: "", message: `expected a mapping with "enterprise" and "sites", found ${found}` }]);
  }

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // e.g. yaml's guard against alias bombs
    return fail([{ line: 1, column: 1, path: "", message: e instanceof Error ? e.message : String(e) }]);
  }

  const locate = (path: Path) => at(nearestNode(doc, path).node?.range?.[0] ?? 0);
  const errorAt = (path: Path, message: string): PlantFileError => ({ ...locate(path), path: formatPath(path), message });
  const errors = [...duplicateErrors(data, locate), ...referenceErrors(data, locate)];
  const parsed = plantFile.safeParse(data);
  if (parsed.success) return errors.length > 0 ? fail(errors) : { ok: true, plant: parsed.data, errorAt };

  for (const issue of parsed.error.issues) {
    if (issue.code === "unrecognized_keys") {
      const map = nearestNode(doc, issue.path).node;
      for (const key of issue.keys) {
        const keyNode = isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === key)?.key : undefined;
        const offset = (isNode(keyNode) ? keyNode : map)?.range?.[0] ?? 0;
        errors.push({ ...at(offset), path: formatPath([...issue.path, key]), message: `unknown key "${key}"` });
      }
      continue;
    }
    // A missing discriminator (a rule's kind, an action's type) fails its union, not a type check.
    const missing = (issue.code === "invalid_type" || (issue.code === "invalid_union" && "discriminator" in issue)) && !nearestNode(doc, issue.path).exact;
    const message = missing
      ? `missing required key "${String(issue.path.at(-1))}"`
      : issue.message.replace(/^Invalid (input|option): /, "");
    errors.push({ ...locate(issue.path), path: formatPath(issue.path), message });
  }
  return fail(errors);
}

export function formatPlantFileError(fileName: string, e: PlantFileError): string {
  return `${fileName}:${e.line}:${e.column} ${e.path ? `${e.path}: ` : ""}${e.message}`;
}

function fail(errors: PlantFileError[]): PlantFileResult {
  return { ok: false, errors: errors.sort((a, b) => a.line - b.line || a.column - b.column) };
}

/** The node at `path`, or the nearest ancestor that exists: a missing key is reported at its map. */
function nearestNode(doc: Document, path: Path): { node: Node | null; exact: boolean } {
  let node = doc.contents;
  for (const key of path) {
    const child: unknown = isMap(node) || isSeq(node) ? node.get(key, true) : undefined;
    if (!isNode(child)) return { node, exact: false };
    node = isAlias(child) ? (child.resolve(doc) ?? child) : child;
  }
  return { node, exact: true };
}

function formatPath(path: Path): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("");
}

/** The named lists under each level of the file, and what their items are called in messages. */
const children: Record<string, readonly { key: string; kind: string }[]> = {
  file: [
    { key: "sites", kind: "site" },
    { key: "integrations", kind: "integration" },
    { key: "automations", kind: "automation" },
    { key: "opcuaEndpoints", kind: "OPC UA endpoint" },
  ],
  site: [{ key: "areas", kind: "area" }],
  area: [{ key: "lines", kind: "line" }],
  line: [{ key: "machines", kind: "machine" }],
  machine: [
    { key: "dataPoints", kind: "data point" },
    { key: "rules", kind: "rule" },
    { key: "methods", kind: "method" },
  ],
};

/**
 * Sibling names must be unique, and so must the MQTT bindings within a machine. Checked on the raw
 * data rather than in the zod schema so these errors are reported alongside any others.
 */
function duplicateErrors(data: unknown, locate: Locate, parent = "file", path: Path = []): PlantFileError[] {
  if (!isRecord(data)) return [];
  const errors: PlantFileError[] = [];
  for (const level of children[parent] ?? []) {
    const items = itemsAt(data, level.key);
    const firstByName = new Map<string, number>();
    const firstByBinding = new Map<string, number>();
    items.forEach((item, i) => {
      const itemPath = [...path, level.key, i];
      if (typeof item.name === "string") {
        const first = firstByName.get(item.name);
        if (first === undefined) firstByName.set(item.name, i);
        else errors.push(duplicate(locate, [...itemPath, "name"], `duplicate ${level.kind} name "${item.name}"`, [...path, level.key, first, "name"]));
      }
      // Without an explicit topic a point listens on its machine path plus its own name: never shared.
      if (level.kind === "data point" && isRecord(item.mqtt) && typeof item.mqtt.topic === "string") {
        const field = typeof item.mqtt.field === "string" ? item.mqtt.field : undefined;
        const binding = JSON.stringify([item.mqtt.topic, field]);
        const first = firstByBinding.get(binding);
        if (first === undefined) firstByBinding.set(binding, i);
        else {
          const what = field === undefined ? `topic "${item.mqtt.topic}"` : `topic "${item.mqtt.topic}" and field "${field}"`;
          errors.push(duplicate(locate, [...itemPath, "mqtt"], `duplicate MQTT binding: ${what}`, [...path, level.key, first, "mqtt"]));
        }
      }
      errors.push(...duplicateErrors(item, locate, level.kind, itemPath));
    });
  }
  return errors;
}

function duplicate(locate: Locate, at: Path, message: string, firstAt: Path): PlantFileError {
  return { ...locate(at), path: formatPath(at), message: `${message} (first at line ${locate(firstAt).line})` };
}

/**
 * What the file refers to within itself: a rule's point must be one its machine declares, and an
 * integration's site one the file declares. (Integrations that automations name may also exist in
 * the database already; applying checks those.)
 */
function referenceErrors(data: unknown, locate: Locate): PlantFileError[] {
  if (!isRecord(data)) return [];
  const errors: PlantFileError[] = [];
  const error = (at: Path, message: string) => errors.push({ ...locate(at), path: formatPath(at), message });
  const enterprise = typeof data.enterprise === "string" ? data.enterprise : undefined;
  const siteNames = new Set<unknown>();

  itemsAt(data, "sites").forEach((site, s) => {
    siteNames.add(site.name);
    itemsAt(site, "areas").forEach((area, a) =>
      itemsAt(area, "lines").forEach((line, l) =>
        itemsAt(line, "machines").forEach((machine, m) => {
          const points = new Set(itemsAt(machine, "dataPoints").map((p) => p.name));
          itemsAt(machine, "rules").forEach((rule, r) => {
            if (typeof rule.point !== "string" || points.has(rule.point)) return;
            const owner = typeof machine.name === "string" ? `machine "${machine.name}"` : "the machine";
            error(["sites", s, "areas", a, "lines", l, "machines", m, "rules", r, "point"], `${owner} declares no data point "${rule.point}"`);
          });
        }),
      ),
    );
  });

  itemsAt(data, "integrations").forEach((integration, i) => {
    const site = integration.site;
    if (typeof site !== "string" || enterprise === undefined) return;
    const [siteEnterprise, siteName] = site.split("/");
    if (siteEnterprise === enterprise && siteNames.has(siteName)) return;
    error(["integrations", i, "site"], `expected a site of this file: "${enterprise}/<site>" with a site listed under sites`);
  });
  return errors;
}

/** The mapping items of a list under `key`; anything else the schema reports. */
function itemsAt(data: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const items = data[key];
  return Array.isArray(items) ? items.map((item: unknown) => (isRecord(item) ? item : {})) : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
