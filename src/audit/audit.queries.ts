import type { RawQuery } from "../db/database.js";
import type { ChainRow } from "./chain.verifier.js";

/** Keyset pages by seq: the chain is read in commit order without holding it all in memory. */
const DEFAULT_PAGE = 5_000;
const PAGES_AHEAD = 2;

/** Each link with the entry it links: the chain as stored. */
const CHAIN = `audit_chain_link l join audit_entry e on e.id = l.entry_id`;
const CHAIN_COLUMNS = `e.id, l.seq, to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, e.actor, e.action,
  e.entity_type, e.entity_id, e.old_value, e.new_value, e.reason, e.request_id, e.content_hash, l.prev_hash, l.hash`;

interface ChainRecord extends Record<string, unknown> {
  id: string | number;
  seq: string | number;
  at: string;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  old_value: Record<string, unknown> | null;
  new_value: Record<string, unknown> | null;
  reason: string | null;
  request_id: string | null;
  content_hash: string;
  prev_hash: string;
  hash: string;
}

export interface SeqRange {
  /** Exclusive: rows after this seq. */
  afterSeq: number;
  /** Inclusive; none: to the end. */
  toSeq?: number;
}

/**
 * The chained entries of a seq range, in order; the next page is fetched while this one is used.
 * Pages are windows of seq (gap-free in an intact chain), not LIMITs: a LIMIT over "seq > x" can
 * make the planner sort every later row for each page.
 */
export async function* readChain(query: RawQuery, range: SeqRange = { afterSeq: 0 }, pageSize = DEFAULT_PAGE): AsyncGenerator<ChainRow> {
  const last = range.toSeq ?? (await lastSeq(query));
  const page = (after: number) =>
    query<ChainRecord>(`select ${CHAIN_COLUMNS} from ${CHAIN} where l.seq > $1 and l.seq <= $2 order by l.seq`, [after, Math.min(after + pageSize, last)]);
  // Pages in flight: the database reads ahead while this process hashes.
  const ahead: ReturnType<typeof page>[] = [];
  let after = range.afterSeq;
  const fill = () => {
    while (ahead.length < PAGES_AHEAD && after < last) {
      const next = page(after);
      // A reader that stops early leaves pages unread: their failure must not go unhandled.
      next.catch(() => undefined);
      ahead.push(next);
      after += pageSize;
    }
  };
  fill();
  while (ahead.length > 0) {
    const { rows } = await ahead.shift()!;
    fill();
    for (const row of rows) yield toChainRow(row);
  }
}

export interface AuditSubject {
  entityType: string;
  entityIds: readonly string[];
}

/** The chained entries about some records (e.g. a lot and its tasks), in chain order, page by page. */
export async function* readEntriesAbout(query: RawQuery, subjects: readonly AuditSubject[], pageSize = DEFAULT_PAGE): AsyncGenerator<ChainRow> {
  const wanted = subjects.filter((s) => s.entityIds.length > 0);
  if (wanted.length === 0) return;
  const params: unknown[] = [];
  const about = wanted.map((s) => `(e.entity_type = $${params.push(s.entityType)} and e.entity_id = any($${params.push([...s.entityIds])}::text[]))`).join(" or ");
  let after = 0;
  for (;;) {
    const { rows } = await query<ChainRecord>(
      `select ${CHAIN_COLUMNS} from ${CHAIN} where l.seq > $${params.length + 1} and (${about}) order by l.seq limit ${pageSize}`,
      [...params, after],
    );
    for (const row of rows) yield toChainRow(row);
    if (rows.length < pageSize) return;
    after = Number(rows.at(-1)!.seq);
  }
}

/** The highest seq stored, whatever the head says (rows beyond it would be forged ones). */
async function lastSeq(query: RawQuery): Promise<number> {
  const { rows } = await query<{ last: string | null }>(`select max(seq) as last from audit_chain_link`);
  return Number(rows[0]?.last ?? 0);
}

function toChainRow(row: ChainRecord): ChainRow {
  return {
    id: Number(row.id),
    seq: Number(row.seq),
    content: {
      at: row.at,
      actor: row.actor,
      action: row.action,
      entityType: row.entity_type,
      entityId: row.entity_id,
      oldValue: row.old_value,
      newValue: row.new_value,
      reason: row.reason,
      requestId: row.request_id,
    },
    contentHash: row.content_hash,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export interface ChainHead {
  chainId: string;
  seq: number;
  hash: string;
}

/** The last linked entry, as the head row says, and the chain's id. */
export async function chainHead(query: RawQuery): Promise<ChainHead> {
  const { rows } = await query<{ chain_id: string; seq: string | number; hash: string }>(`select chain_id, seq, hash from audit_chain_head where id = 1`);
  const row = rows[0];
  if (!row) throw new Error("audit_chain_head has no row: the database was not migrated");
  return { chainId: row.chain_id, seq: Number(row.seq), hash: row.hash };
}

/** Entries outside the chain: `pending` (appended, not linked yet) and `legacy` (older than the chain). */
export async function countUnchained(query: RawQuery): Promise<{ pending: number; legacy: number }> {
  const { rows } = await query<{ pending: number; legacy: number }>(
    `select count(*) filter (where e.content_hash is not null)::int as pending, count(*) filter (where e.content_hash is null)::int as legacy
     from audit_entry e where not exists (select from audit_chain_link l where l.entry_id = e.id)`,
  );
  return { pending: rows[0]?.pending ?? 0, legacy: rows[0]?.legacy ?? 0 };
}

/**
 * The seq range of the entries written in [from, to). `at` comes from the writer's clock, so it
 * may step back a little across seq; the range is contiguous so that it verifies on its own.
 */
export async function seqRangeOfPeriod(query: RawQuery, from: Date, to: Date): Promise<SeqRange | undefined> {
  const { rows } = await query<{ first: string | null; last: string | null }>(
    `select min(l.seq) as first, max(l.seq) as last from ${CHAIN} where e.at >= $1 and e.at < $2`,
    [from.toISOString(), to.toISOString()],
  );
  const { first, last } = rows[0] ?? {};
  if (first == null || last == null) return undefined;
  return { afterSeq: Number(first) - 1, toSeq: Number(last) };
}

/** The hash of the entry at `seq` (the previous hash of a range that starts after it). */
export async function hashAt(query: RawQuery, seq: number): Promise<string | undefined> {
  const { rows } = await query<{ hash: string }>(`select hash from audit_chain_link where seq = $1`, [seq]);
  return rows[0]?.hash;
}
