import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { linkHashOf } from "./audit-hash.js";

/**
 * Links appended audit entries into the hash chain, in batches, one chainer at a time.
 *
 * Why not link at insert time: a writer that took the head's lock would hold it until its commit,
 * so every transaction that audits would commit one after the other, each waiting for the
 * previous one's WAL flush (measured: under half the throughput of plain inserts with four
 * writers). Here writers only insert (with their content hash), in parallel; the chainer is the
 * single serialized sequence: under the head row's lock it takes the committed, unlinked entries
 * in id order, gives them the next seq numbers and links each to its predecessor. Chain order is
 * the order in which the chainer saw the commits. Several processes may run a chainer: the lock
 * is taken with SKIP LOCKED, so a second one simply finds the work being done.
 *
 * Entries are never changed: the chainer inserts each one's link (`audit_chain_link`: seq,
 * prev_hash, hash) and takes it off the work list (`audit_unlinked`, filled by a trigger on
 * insert). Until then an entry is "pending", for at most a chainer's period.
 */

const BATCH = 5_000;

interface PendingRow extends Record<string, unknown> {
  id: string | number;
  content_hash: string;
}

/** Links up to BATCH pending entries; 0 when none are pending or another chainer is at work. */
export async function linkPending(db: DbOrTx, batch = BATCH): Promise<number> {
  return db.transaction(async (tx) => {
    const [head] = rowsOf<{ seq: string | number; hash: string }>(await tx.execute(sql`select seq, hash from audit_chain_head where id = 1 for update skip locked`));
    if (!head) return 0;
    const pending = rowsOf<PendingRow>(
      await tx.execute(sql`
        select e.id, e.content_hash from audit_unlinked u join audit_entry e on e.id = u.entry_id order by u.entry_id limit ${batch}`),
    );
    if (pending.length === 0) return 0;
    let seq = Number(head.seq);
    let prevHash = head.hash;
    const links = pending.map((row) => {
      const hash = linkHashOf(prevHash, row.content_hash);
      const link = { entry_id: Number(row.id), seq: (seq += 1), prev_hash: prevHash, hash };
      prevHash = hash;
      return link;
    });
    await tx.execute(sql`
      with linked as (
        insert into audit_chain_link (seq, entry_id, prev_hash, hash)
        select seq, entry_id, prev_hash, hash from jsonb_to_recordset(${JSON.stringify(links)}::jsonb) as v(seq bigint, entry_id bigint, prev_hash text, hash text)
        returning entry_id)
      delete from audit_unlinked where entry_id in (select entry_id from linked)`);
    await tx.execute(sql`update audit_chain_head set seq = ${seq}, hash = ${prevHash} where id = 1`);
    return links.length;
  });
}

/** Links until nothing is pending (or another chainer holds the head). */
export async function linkAllPending(db: DbOrTx): Promise<number> {
  let linked = 0;
  for (;;) {
    const n = await linkPending(db);
    linked += n;
    if (n < BATCH) return linked;
  }
}

export interface Chainer {
  stop(): Promise<void>;
}

/** Every `everyMs`, links what was appended since; a turn still running makes the next one skip. */
export function startChainer(options: { db: DbOrTx; everyMs: number; log: Logger }): Chainer {
  const { db, log } = options;
  let running: Promise<void> | undefined;
  const turn = (): Promise<void> =>
    (running ??= linkAllPending(db)
      .then(
        () => undefined,
        (error: unknown) => log.error({ err: error }, "linking audit entries failed; retrying at the next turn"),
      )
      .finally(() => (running = undefined)));
  const timer = setInterval(() => void turn(), options.everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      // What was appended during shutdown is linked before the database closes.
      await turn();
    },
  };
}

function rowsOf<Row>(result: unknown): Row[] {
  return (result as { rows: Row[] }).rows;
}
