import { sitePathOf } from "../auth/identity.js";
import { auditCsvLine, AUDIT_CSV_COLUMNS, bundleRecord } from "../audit/bundle.export.js";
import { readEntriesAbout } from "../audit/audit.queries.js";
import { csvLine, openBundle } from "../audit/bundle.writer.js";
import type { HubKey } from "../audit/hub-key.js";
import { countPairs, HOW_TO_VERIFY, renderSummaryPdf, type SummarySection } from "../audit/summary.pdf.js";
import type { Database } from "../db/database.js";
import { tasksOf } from "../graphql/task/task.queries.js";
import { checkedSignaturesOf, recordHashOf } from "../signatures/signature.service.js";
import { LOT_BUNDLE_FILES, LOT_BUNDLE_FORMAT } from "./lot-bundle.verify.js";
import { alarmsOfEvents, linksAmong, lotBatchRecord, lotEvents, lotLinks, lotOperators, lotParameters, lotsByIds, traceLots, type TraceDirection } from "./lot.queries.js";
import type { LotRow } from "./lot.service.js";

/**
 * A lot's record as an evidence bundle: lot.json (the batch record as signatures cover it, its
 * genealogy both ways, process parameters, events with their alarms and tasks, operators,
 * signatures), genealogy.csv, quality-results.csv, the audit records about the lot, its alarms and
 * its tasks (NDJSON and CSV, streamed), summary.pdf, all sealed by the hub's signed manifest.
 */

export interface LotExportOptions {
  database: Database;
  key: HubKey;
  lot: LotRow;
  /** A directory that does not exist yet or is empty. */
  out: string;
  createdBy: string;
  /** The sites whose lots the genealogy may show; undefined: every site. */
  sites?: readonly string[];
}

export interface LotExportResult {
  dir: string;
  lots: number;
  auditRecords: number;
  manifestSha256: string;
}

const GENEALOGY_COLUMNS = ["direction", "depth", "lot_id", "code", "product", "machine_path", "status", "started_at", "ended_at", "quantity", "unit", "on_hold"];
const QUALITY_COLUMNS = ["id", "characteristic", "value", "unit", "passed", "note", "recorded_at", "recorded_by"];

export async function exportLotBundle(options: LotExportOptions): Promise<LotExportResult> {
  const { database, key, lot } = options;
  const db = database.db;
  const bundle = await openBundle(options.out, key);
  const visible = (row: LotRow) => !options.sites || options.sites.includes(sitePathOf(row.machinePath));

  const record = (await lotBatchRecord(db, lot.id))!;
  const genealogy = { backward: await traced(options, "BACKWARD", visible), forward: await traced(options, "FORWARD", visible) };
  const lotIds = [...new Set([...genealogy.backward, ...genealogy.forward].map((t) => t.lot.id))];
  const events = await lotEvents(db, lot);
  const alarms = await alarmsOfEvents(db, events);
  const tasks = (await tasksOf(db, "eventId", events.map((e) => e.id))).map((t) => t.task);
  const signatures = (await checkedSignaturesOf(db, key.publicKeyPem, "lot", lot.id)).map(({ row, check }) => ({ ...row, valid: check.valid, problem: check.problem ?? null }));
  const operators = await lotOperators(db, lot);
  const lotFile = {
    record,
    recordHash: recordHashOf({ content: record, site: null }),
    consumedBy: await lotLinks(db, lot.id, "consumers"),
    genealogy: { ...genealogy, links: await linksAmong(db, lotIds) },
    parameters: await lotParameters(db, lot),
    events,
    alarms,
    tasks,
    operators,
    signatures,
  };
  await bundle.add(LOT_BUNDLE_FILES.record, `${JSON.stringify(lotFile, null, 2)}\n`);

  const genealogyCsv = bundle.stream(LOT_BUNDLE_FILES.genealogy);
  await genealogyCsv.write(csvLine(GENEALOGY_COLUMNS));
  for (const [direction, rows] of Object.entries(genealogy)) {
    for (const { depth, lot: l } of rows) {
      await genealogyCsv.write(csvLine([direction, depth, l.id, l.code, l.product, l.machinePath, l.status, l.startedAt.toISOString(), l.endedAt?.toISOString(), l.quantity, l.unit, l.onHold]));
    }
  }
  await genealogyCsv.close();
  const qualityCsv = bundle.stream(LOT_BUNDLE_FILES.quality);
  await qualityCsv.write(csvLine(QUALITY_COLUMNS));
  for (const q of record.qualityResults) await qualityCsv.write(csvLine([q.id, q.characteristic, q.value, q.unit, q.passed, q.note, q.recordedAt.toISOString(), q.recordedBy]));
  await qualityCsv.close();

  const auditNdjson = bundle.stream(LOT_BUNDLE_FILES.audit);
  const auditCsv = bundle.stream(LOT_BUNDLE_FILES.auditCsv);
  await auditCsv.write(csvLine(AUDIT_CSV_COLUMNS));
  const byAction = new Map<string, number>();
  let auditRecords = 0;
  const subjects = [
    { entityType: "lot", entityIds: [String(lot.id)] },
    { entityType: "alarm", entityIds: alarms.map((a) => String(a.id)) },
    { entityType: "task", entityIds: tasks.map((t) => String(t.id)) },
  ];
  for await (const row of readEntriesAbout(database.query, subjects)) {
    auditRecords += 1;
    byAction.set(row.content.action, (byAction.get(row.content.action) ?? 0) + 1);
    await auditNdjson.write(`${JSON.stringify(bundleRecord(row))}\n`);
    await auditCsv.write(auditCsvLine(row));
  }
  await auditNdjson.close();
  await auditCsv.close();

  const createdAt = new Date().toISOString();
  const lots = lotIds.length;
  const depthPairs = (rows: { depth: number; lot: LotRow }[]): [string, string][] => rows.slice(1).map(({ depth, lot: l }) => [`${"  ".repeat(depth - 1)}level ${depth}`, `${l.code} (${l.product ?? "-"}, ${l.machinePath})`]);
  const sections: SummarySection[] = [
    { heading: "Made from (backward)", pairs: depthPairs(genealogy.backward), lines: genealogy.backward.length > 1 ? [] : ["no recorded components"] },
    { heading: "Used in (forward)", pairs: depthPairs(genealogy.forward), lines: genealogy.forward.length > 1 ? [] : ["not consumed into another lot"] },
    { heading: "Quality results", pairs: record.qualityResults.map((q) => [q.characteristic, `${q.value ?? ""} ${q.unit ?? ""} ${q.passed ? "passed" : "FAILED"} (${q.recordedBy})`]) },
    { heading: "Process parameters (min / avg / max)", pairs: lotFile.parameters.map((p) => [p.name, p.count === 0 ? "no readings" : `${p.min} / ${round(p.avg)} / ${p.max} ${p.unit ?? ""} (${p.count} readings)`]) },
    { heading: "Events while it ran", pairs: countPairs(countBy(events.map((e) => e.kind))), lines: tasks.map((t) => `task: ${t.title}`) },
    { heading: "Operators", pairs: operators.map((o) => [o.identity, o.did.join(", ")]) },
    { heading: "Electronic signatures", lines: signatures.map((s) => `${s.meaning} by ${s.signerName} (${s.signerId}) at ${s.signedAt.toISOString()}: ${s.valid ? "valid" : `NOT VALID: ${s.problem}`}`) },
    { heading: `Audit records (${auditRecords})`, pairs: countPairs(byAction) },
    { heading: "Record", fixed: [`record hash  ${lotFile.recordHash}`, `hub key id   ${key.keyId}`] },
  ];
  const pdf = await renderSummaryPdf({
    title: `Lot record ${lot.code}`,
    createdAt,
    facts: [
      ["Product", lot.product ?? "-"],
      ["Machine", lot.machinePath],
      ["Status", lot.status + (lot.onHold ? `, ON HOLD: ${lot.holdReason}` : "")],
      ["Ran", `${lot.startedAt.toISOString()} to ${lot.endedAt?.toISOString() ?? "(running)"}`],
      ["Quantity", lot.quantity === null ? "-" : `${lot.quantity} ${lot.unit ?? ""}`],
      ["Exported", `${createdAt} by ${options.createdBy}`],
    ],
    sections,
    footer: HOW_TO_VERIFY,
  });
  await bundle.add(LOT_BUNDLE_FILES.summary, pdf);

  const { manifestSha256 } = await bundle.seal({
    format: LOT_BUNDLE_FORMAT,
    createdAt,
    createdBy: options.createdBy,
    lot: { id: lot.id, code: lot.code },
    recordHash: lotFile.recordHash,
    lots,
    auditRecords,
  });
  return { dir: options.out, lots, auditRecords, manifestSha256 };
}

async function traced(options: LotExportOptions, direction: TraceDirection, visible: (row: LotRow) => boolean): Promise<{ depth: number; lot: LotRow }[]> {
  const db = options.database.db;
  const steps = await traceLots(db, options.lot.id, direction);
  const rows = new Map((await lotsByIds(db, steps.map((s) => s.lotId))).map((row) => [row.id, row]));
  return steps.flatMap(({ lotId, depth }) => {
    const row = rows.get(lotId);
    return row && visible(row) ? [{ depth, lot: row }] : [];
  });
}

function countBy(items: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

const round = (value: number | null) => (value === null ? "-" : String(Math.round(value * 1000) / 1000));
