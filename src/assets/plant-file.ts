import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { z } from "zod";
import { assetName, dataPointSpec, timezone, type DataPointSpec } from "./asset.rules.js";

/**
 * The declarative plant file: one enterprise's ISA-95 asset model in YAML. Pure: text in, either the
 * typed spec or every error with its line and column out.
 */

export interface PlantSpec { enterprise: string; sites: SiteSpec[] }
export interface SiteSpec { name: string; timezone: string; areas: AreaSpec[] }
export interface AreaSpec { name: string; lines: LineSpec[] }
export interface LineSpec { name: string; machines: MachineSpec[] }
export interface MachineSpec { name: string; displayName?: string; dataPoints: DataPointSpec[] }

/** 1-based line and column; `path` like `sites[0].areas[1].name`, empty for the whole file. */
export interface PlantFileError { line: number; column: number; path: string; message: string }
export type PlantFileResult = { ok: true; plant: PlantSpec } | { ok: false; errors: PlantFileError[] };

type Path = readonly PropertyKey[];

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
  })
  .transform(({ normalRange, mqtt, ...rest }): DataPointSpec => {
    const spec: DataPointSpec = { ...rest };
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

const machine = z.strictObject({
  name: assetName,
  displayName: z.string().min(1).max(128).optional(),
  dataPoints: list(plantDataPoint),
});
const line = z.strictObject({ name: assetName, machines: list(machine) });
const area = z.strictObject({ name: assetName, lines: list(line) });
const site = z.strictObject({ name: assetName, timezone: timezone.default("UTC"), areas: list(area) });
const plantFile = z.strictObject({ enterprise: assetName, sites: list(site) });

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
  const errors = [...duplicateErrors(data, locate)];
  const parsed = plantFile.safeParse(data);
  if (parsed.success) return errors.length > 0 ? fail(errors) : { ok: true, plant: parsed.data };

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
    const missing = issue.code === "invalid_type" && !nearestNode(doc, issue.path).exact;
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

const levels = [
  { key: "sites", kind: "site" },
  { key: "areas", kind: "area" },
  { key: "lines", kind: "line" },
  { key: "machines", kind: "machine" },
  { key: "dataPoints", kind: "data point" },
] as const;

type Locate = (path: Path) => { line: number; column: number };

/**
 * Sibling names must be unique, and so must the MQTT bindings within a machine. Checked on the raw
 * data rather than in the zod schema so these errors are reported alongside any others.
 */
function duplicateErrors(data: unknown, locate: Locate, depth = 0, path: Path = []): PlantFileError[] {
  const level = levels[depth];
  const items = isRecord(data) && level ? data[level.key] : undefined;
  if (!level || !Array.isArray(items)) return [];

  const errors: PlantFileError[] = [];
  const firstByName = new Map<string, number>();
  const firstByBinding = new Map<string, number>();
  items.forEach((item: unknown, i) => {
    const itemPath = [...path, level.key, i];
    if (!isRecord(item)) return;
    if (typeof item.name === "string") {
      const first = firstByName.get(item.name);
      if (first === undefined) firstByName.set(item.name, i);
      else errors.push(duplicate([...itemPath, "name"], `duplicate ${level.kind} name "${item.name}"`, [...path, level.key, first, "name"]));
    }
    // Without an explicit topic a point listens on its machine path plus its own name: never shared.
    if (level.kind === "data point" && isRecord(item.mqtt) && typeof item.mqtt.topic === "string") {
      const field = typeof item.mqtt.field === "string" ? item.mqtt.field : undefined;
      const binding = JSON.stringify([item.mqtt.topic, field]);
      const first = firstByBinding.get(binding);
      if (first === undefined) firstByBinding.set(binding, i);
      else {
        const what = field === undefined ? `topic "${item.mqtt.topic}"` : `topic "${item.mqtt.topic}" and field "${field}"`;
        errors.push(duplicate([...itemPath, "mqtt"], `duplicate MQTT binding: ${what}`, [...path, level.key, first, "mqtt"]));
      }
    }
    errors.push(...duplicateErrors(item, locate, depth + 1, itemPath));
  });
  return errors;

  function duplicate(at: Path, message: string, firstAt: Path): PlantFileError {
    return { ...locate(at), path: formatPath(at), message: `${message} (first at line ${locate(firstAt).line})` };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
