import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { machineByPath } from "../src/assets/asset.queries.js";
import { applyPlantText } from "../src/assets/plant-apply.js";
import { recordAudit, type AuditEntry } from "../src/audit/audit.js";
import { exportAuditBundle } from "../src/audit/bundle.export.js";
import { verifyBundle } from "../src/audit/bundle.verify.js";
import { linkAllPending } from "../src/audit/chainer.js";
import { loadOrCreateHubKey } from "../src/audit/hub-key.js";
import { createLogger } from "../src/log/logger.js";
import { exportLotBundle } from "../src/lots/lot-bundle.export.js";
import { startLot } from "../src/lots/lot.service.js";
import { sampleEntry } from "../test/support/audit.js";
import { createTestDatabase } from "../test/support/database.js";
import { sealerPath, sealerPerSitePlant } from "../test/support/plant.js";
import { median, ratio, roundOrder } from "./support.js";

/**
 * A lot record export, on a database of its own on TEST_POSTGRES_URL: one lot with
 * BENCH_LOT_RECORDS audit records about it (quality results), interleaved with four times as
 * many records about other things, all chained. Value: the lot bundle's audit records written per
 * second (selected from the trail by entity, streamed, sealed, PDF). Baseline, in the same rounds
 * with their order rotating: the audit export of the whole period (every record, read by seq
 * windows, chain verified), in records per second.
 */

const LOT_RECORDS = Number(process.env.BENCH_LOT_RECORDS ?? 20_000);
const OTHERS_PER_LOT_RECORD = 4;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 1_000;

type Kind = "lot" | "audit";

const db = await createTestDatabase("bench_lot_export");
const dir = await mkdtemp(path.join(tmpdir(), "plantgraph-bench-lot-"));
try {
  const { database } = db;
  const key = await loadOrCreateHubKey(path.join(dir, "hub.pem"));
  await applyPlantText(database, sealerPerSitePlant("bench", ["berlin"]), "plant.yaml", createLogger("silent"));
  const machine = (await machineByPath(database.db, sealerPath("bench", "berlin")))!;
  const lot = await startLot(database.db, machine, { code: "BENCH-1", product: "pouch" }, { actor: "bench" });
  const from = new Date(Date.now() - 60_000);
  for (let written = 0; written < LOT_RECORDS; written += BATCH) {
    const entries: AuditEntry[] = [];
    for (let i = written; i < Math.min(LOT_RECORDS, written + BATCH); i++) {
      entries.push({ actor: "bench", action: "lot.quality_recorded", entityType: "lot", entityId: lot.id, newValue: { resultId: i, characteristic: "weight", value: 500 + (i % 7), passed: true } });
      for (let o = 0; o < OTHERS_PER_LOT_RECORD; o++) entries.push(sampleEntry(i * OTHERS_PER_LOT_RECORD + o, "bench"));
    }
    await recordAudit(database.db, ...entries);
    await linkAllPending(database.db);
    console.error(`lot-export: ${Math.min(LOT_RECORDS, written + BATCH)} of ${LOT_RECORDS} lot records written`);
  }
  const to = new Date(Date.now() + 60_000);
  await database.query(`vacuum analyze audit_entry`);

  let bundles = 0;
  const outDir = () => path.join(dir, `bundle-${(bundles += 1)}`);
  const exportOnce: Record<Kind, () => Promise<number>> = {
    lot: async () => (await exportLotBundle({ database, key, lot, out: outDir(), createdBy: "bench" })).auditRecords,
    audit: async () => (await exportAuditBundle({ query: database.query, key, from, to, out: outDir(), createdBy: "bench" })).manifest.records,
  };
  const rates: Record<Kind, number[]> = { lot: [], audit: [] };
  const records: Record<Kind, number> = { lot: 0, audit: 0 };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const kind of roundOrder<Kind>(["lot", "audit"], round)) {
      const started = performance.now();
      records[kind] = await exportOnce[kind]();
      const perSecond = Math.round(records[kind] / ((performance.now() - started) / 1000));
      rates[kind].push(perSecond);
      console.error(`lot-export: round ${round + 1} ${kind}: ${records[kind]} records, ${perSecond} records/s`);
    }
  }
  const check = await verifyBundle(path.join(dir, "bundle-1"));
  if (!check.ok) throw new Error(`the first bundle does not verify: ${JSON.stringify(check)}`);

  const value = median(rates.lot);
  const baseline = median(rates.audit);
  console.log(
    JSON.stringify({
      bench: "lot-export",
      value,
      unit: "audit records/s",
      baseline,
      baseline_name: "audit export of the whole period (records/s)",
      ratio: ratio(value, baseline),
      lot_records: records.lot,
      trail_records: records.audit,
    }),
  );
} finally {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
}
