import { pgTable } from "drizzle-orm/pg-core";
import { auditEntryColumns } from "../schema/db/audit.js";
import { recordAudit, type AuditEntry } from "../src/audit/audit.js";
import { contentHashOf, GENESIS_HASH, linkHashOf, type AuditContent } from "../src/audit/audit-hash.js";
import { startChainer } from "../src/audit/chainer.js";
import { verifyStoredTrail } from "../src/audit/trail.verify.js";
import { createLogger } from "../src/log/logger.js";
import { connect, sampleEntry } from "../test/support/audit.js";
import { createTestDatabase, type TestDatabase } from "../test/support/database.js";
import { median, ratio, roundOrder } from "./support.js";

/**
 * The audit trail's costs, on a database of its own on TEST_POSTGRES_URL:
 * - append throughput: BENCH_AUDIT_APPENDS entries per round, one transaction each, from
 *   BENCH_AUDIT_WRITERS concurrent writers (services append from several processes at once),
 *   through recordAudit (content hash in Node), until the last one is linked by the chainer
 *   running meanwhile as in the hub. Baseline: the same rows through the same drizzle insert into a plain copy of the
 *   table (no hash, no trigger, no lock), in the same rounds, their order rotating;
 * - verify: BENCH_AUDIT_VERIFY_RECORDS chained entries (written in bulk with the chain computed
 *   here, triggers off, then vacuumed like a settled table) recomputed by `audit verify`'s own
 *   code over the pool: wall-clock seconds.
 */

const APPENDS = Number(process.env.BENCH_AUDIT_APPENDS ?? 10_000);
const WRITERS = Number(process.env.BENCH_AUDIT_WRITERS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const VERIFY_RECORDS = Number(process.env.BENCH_AUDIT_VERIFY_RECORDS ?? 1_000_000);
const FILL_BATCH = 5_000;
/** The hub's chainer period. */
const LINK_EVERY_MS = 250;
const log = createLogger(process.env.BENCH_LOG_LEVEL ?? "silent");

/** audit_entry as it was before the chain: the baseline's table. */
const plainEntries = pgTable("audit_entry_plain", auditEntryColumns());

type Kind = "chained" | "plain";

const db: TestDatabase = await createTestDatabase("bench_audit");
try {
  const { database } = db;
  await database.query(`create table audit_entry_plain (id bigserial primary key, at timestamptz(3) not null default now(), actor text not null, action text not null,
    entity_type text not null, entity_id text not null, old_value jsonb, new_value jsonb, reason text, request_id text)`);
  await database.query(`create index audit_entry_plain_entity on audit_entry_plain (entity_type, entity_id, id)`);
  await database.query(`create index audit_entry_plain_at on audit_entry_plain (at)`);

  const entries = Array.from({ length: APPENDS }, (_, i) => sampleEntry(i, "bench"));
  const append: Record<Kind, (entry: AuditEntry) => Promise<void>> = {
    chained: (entry) => database.db.transaction((tx) => recordAudit(tx, entry)),
    plain: (entry) =>
      database.db.transaction(async (tx) => {
        await tx.insert(plainEntries).values({ ...entry, entityId: String(entry.entityId), at: new Date(), oldValue: entry.oldValue ?? null, newValue: entry.newValue ?? null });
      }),
  };
  const rates: Record<Kind, number[]> = { chained: [], plain: [] };
  await runRound("chained", append.chained, entries.slice(0, 500));
  await runRound("plain", append.plain, entries.slice(0, 500));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const kind of roundOrder<Kind>(["chained", "plain"], round)) {
      const seconds = await runRound(kind, append[kind], entries);
      rates[kind].push(Math.round(APPENDS / seconds));
      console.error(`audit: round ${round + 1} ${kind}: ${Math.round(APPENDS / seconds)} appends/s`);
    }
  }
  const chainedOk = await verifyStoredTrail(database.query);
  if (!chainedOk.ok) throw new Error(`the appended chain does not verify: ${JSON.stringify(chainedOk.problem)}`);

  await database.query(`truncate audit_entry_plain`);
  await fillChain(db.url, VERIFY_RECORDS);
  // A trail that has been there a while: the first read of fresh rows also writes their hint
  // bits, a one-time cost a year-old trail no longer pays.
  await database.query(`vacuum analyze audit_entry, audit_chain_link`);
  const started = performance.now();
  const report = await verifyStoredTrail(database.query, {
    onProgress: (n, expected) => console.error(`audit: verified ${n} of ${expected}`),
  });
  const verifySeconds = (performance.now() - started) / 1000;
  if (!report.ok) throw new Error(`the filled chain does not verify: ${JSON.stringify(report.problem)}`);

  const value = median(rates.chained);
  const baseline = median(rates.plain);
  const result = {
    bench: "audit",
    value,
    unit: "appends/s",
    baseline,
    baseline_name: "plain inserts of the same rows (no hash, no chain)",
    ratio: ratio(value, baseline),
    writers: WRITERS,
    appends_per_round: APPENDS,
    verify_records: report.records,
    verify_seconds: Math.round(verifySeconds * 100) / 100,
    verify_records_per_second: Math.round(report.records / verifySeconds),
  };
  console.error(`audit: appends ${value}/s chained vs ${baseline}/s plain (ratio ${result.ratio}, ${WRITERS} writers); verify ${report.records} records in ${result.verify_seconds} s`);
  console.log(JSON.stringify(result));
} finally {
  await db.drop();
}

/**
 * `entries` appended by WRITERS concurrent writers; seconds from the first append until the last
 * is committed and, for the chained kind, linked (the hub's chainer runs meanwhile, as in a hub).
 */
async function runRound(kind: Kind, append: (entry: AuditEntry) => Promise<void>, entries: readonly AuditEntry[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  const chainer = kind === "chained" ? startChainer({ db: db.database.db, everyMs: LINK_EVERY_MS, log }) : undefined;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < entries.length) await append(entries[next++]!);
    }),
  );
  await chainer?.stop();
  return (performance.now() - started) / 1000;
}

/** `count` more entries chained here and written in bulk with the triggers off, then the head moved. */
async function fillChain(url: string, count: number): Promise<void> {
  const session = await connect(url);
  try {
    await session.query("set session_replication_role = replica");
    const { rows } = await session.query<{ seq: string; hash: string }>(`select seq, hash from audit_chain_head`);
    let seq = Number(rows[0]!.seq);
    let prevHash = rows[0]!.hash ?? GENESIS_HASH;
    const base = Date.now() - count;
    for (let done = 0; done < count; done += FILL_BATCH) {
      const size = Math.min(count, done + FILL_BATCH) - done;
      const ids = await session.query<{ id: string }>(`select nextval(pg_get_serial_sequence('audit_entry', 'id')) as id from generate_series(1, $1)`, [size]);
      const entryColumns: unknown[][] = Array.from({ length: 11 }, () => []);
      const linkColumns: unknown[][] = Array.from({ length: 4 }, () => []);
      for (let i = done; i < done + size; i += 1) {
        const e = sampleEntry(i, "fill");
        const content: AuditContent = {
          at: new Date(base + i).toISOString(),
          actor: e.actor,
          action: e.action,
          entityType: e.entityType,
          entityId: String(e.entityId),
          oldValue: e.oldValue ? JSON.parse(JSON.stringify(e.oldValue)) : null,
          newValue: e.newValue ? JSON.parse(JSON.stringify(e.newValue)) : null,
          reason: e.reason ?? null,
          requestId: e.requestId ?? null,
        };
        const id = ids.rows[i - done]!.id;
        const contentHash = contentHashOf(content);
        const hash = linkHashOf(prevHash, contentHash);
        seq += 1;
        const entry = [id, content.at, content.actor, content.action, content.entityType, content.entityId, json(content.oldValue), json(content.newValue), content.reason, content.requestId, contentHash];
        entry.forEach((v, c) => entryColumns[c]!.push(v));
        [seq, id, prevHash, hash].forEach((v, c) => linkColumns[c]!.push(v));
        prevHash = hash;
      }
      await session.query(
        `insert into audit_entry (id, at, actor, action, entity_type, entity_id, old_value, new_value, reason, request_id, content_hash)
         select * from unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::text[], $10::text[], $11::text[])`,
        entryColumns,
      );
      await session.query(
        `insert into audit_chain_link (seq, entry_id, prev_hash, hash) select * from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])`,
        linkColumns,
      );
      if ((done / FILL_BATCH) % 40 === 0) console.error(`audit: filled ${done + FILL_BATCH} of ${count}`);
    }
    await session.query(`update audit_chain_head set seq = $1, hash = $2`, [seq, prevHash]);
  } finally {
    await session.close();
  }
}

function json(value: Record<string, unknown> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}
