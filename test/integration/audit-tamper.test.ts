import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHashOf, GENESIS_HASH, linkHashOf } from "../../src/audit/audit-hash.js";
import { readChain } from "../../src/audit/audit.queries.js";
import type { ChainRow, TamperKind } from "../../src/audit/chain.verifier.js";
import { verifyStoredTrail } from "../../src/audit/trail.verify.js";
import type { RawQuery } from "../../src/db/database.js";
import { appendEntries, connect } from "../support/audit.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/**
 * An attacker with the database's superuser: triggers off (session_replication_role = replica),
 * then one edit, deletion, insertion or reordering, of entries or of their chain links. Each trial runs in a transaction that is
 * rolled back, so every trial starts from the same intact chain.
 */

const RECORDS = 120;
const TRIALS = 1_000;
const SEED = Number(process.env.TAMPER_SEED ?? 20261125);

type Attack = { kind: TamperKind; seq: number; run(query: RawQuery, chain: ChainRow[]): Promise<void> };

describe("audit verify finds every tampering at the right record", () => {
  let testDb: TestDatabase;
  let chain: ChainRow[];
  beforeAll(async () => {
    testDb = await createTestDatabase("audit_tamper");
    await appendEntries(testDb.database, RECORDS);
    chain = await collect(readChain(testDb.database.query));
  });
  afterAll(() => testDb?.drop());

  it(`${TRIALS} random edits, deletions, insertions and reorderings`, async () => {
    const random = mulberry32(SEED);
    const session = await connect(testDb.url);
    const found: Record<TamperKind, number> = { edited: 0, deleted: 0, inserted: 0, reordered: 0 };
    try {
      for (let trial = 0; trial < TRIALS; trial += 1) {
        const attack = randomAttack(random);
        await session.query("begin");
        try {
          await session.query("set local session_replication_role = replica");
          await attack.run(session.query, chain);
          const report = await verifyStoredTrail(session.query);
          const what = `trial ${trial} (seed ${SEED}): ${attack.kind} at seq ${attack.seq}`;
          expect(report.ok, what).toBe(false);
          expect({ kind: report.problem?.kind, seq: report.problem?.seq }, `${what}: ${report.problem?.detail}`).toEqual({ kind: attack.kind, seq: attack.seq });
          found[attack.kind] += 1;
        } finally {
          await session.query("rollback");
        }
      }
    } finally {
      await session.close();
    }
    // Every kind was tried many times; the untouched chain still verifies.
    expect(Math.min(...Object.values(found))).toBeGreaterThan(TRIALS / 8);
    expect(await verifyStoredTrail(testDb.database.query)).toMatchObject({ ok: true, records: RECORDS });
  }, 300_000);
});

function randomAttack(random: () => number): Attack {
  const pick = (from: number, to: number) => from + Math.floor(random() * (to - from + 1));
  // Each kind a quarter of the trials, then one of its ways, on the entries or on their links.
  switch (pick(0, 3)) {
    case 0:
      return [
        () => editContent(pick(1, RECORDS), pick(0, 3)),
        () => editAndRehash(pick(1, RECORDS - 1)),
        () => editLink(pick(1, RECORDS), pick(0, 1)),
        () => repointLinks(pick(1, RECORDS - 1), 1),
      ][pick(0, 3)]!();
    case 1:
      return deletion(pick(1, RECORDS), pick(0, 2));
    case 2:
      return insertion(pick(1, RECORDS), random() < 0.5);
    default: {
      if (random() < 0.5) return swap(pick(1, RECORDS - 1), 1);
      const first = pick(1, RECORDS - 2);
      return swap(first, pick(2, RECORDS - first));
    }
  }
}

/** The entry linked at `seq`. */
const entryAt = `(select entry_id from audit_chain_link where seq = $1)`;

/** A column changed in place; the hashes are left as they were. */
function editContent(seq: number, column: number): Attack {
  const change = [
    `reason = coalesce(reason, '') || ' (corrected)'`,
    `actor = 'user:someone-else'`,
    `new_value = jsonb_set(coalesce(new_value, '{}'::jsonb), '{status}', '"approved"')`,
    `at = at + interval '1 second'`,
  ][column]!;
  return { kind: "edited", seq, run: (query) => query(`update audit_entry set ${change} where id = ${entryAt}`, [seq]).then(() => undefined) };
}

/** A changed record whose own hashes are recomputed: only its successor's link gives it away. */
function editAndRehash(seq: number): Attack {
  return {
    kind: "edited",
    seq,
    run: async (query, chain) => {
      const row = chain[seq - 1]!;
      const content = { ...row.content, reason: "nothing to see here" };
      const contentHash = contentHashOf(content);
      await query(`update audit_entry set reason = $2, content_hash = $3 where id = ${entryAt}`, [seq, content.reason, contentHash]);
      await query(`update audit_chain_link set hash = $2 where seq = $1`, [seq, linkHashOf(row.prevHash, contentHash)]);
    },
  };
}

/** A link's own hash or previous hash overwritten. */
function editLink(seq: number, column: number): Attack {
  const change = [`hash = repeat('ab', 32)`, `prev_hash = repeat('cd', 32)`][column]!;
  return { kind: "edited", seq, run: (query) => query(`update audit_chain_link set ${change} where seq = $1`, [seq]).then(() => undefined) };
}

/** Two links made to point at each other's entry: each place in the chain now holds another record. */
function repointLinks(seq: number, distance: number): Attack {
  return {
    kind: "edited",
    seq,
    run: async (query, chain) => {
      const [a, b] = [chain[seq - 1]!.id, chain[seq + distance - 1]!.id];
      await query(`update audit_chain_link set entry_id = -1 where seq = $1`, [seq]);
      await query(`update audit_chain_link set entry_id = $2 where seq = $1`, [seq + distance, a]);
      await query(`update audit_chain_link set entry_id = $2 where seq = $1`, [seq, b]);
    },
  };
}

/** The entry, its link, or both removed. */
function deletion(seq: number, what: number): Attack {
  const statements = [
    [`delete from audit_entry where id = ${entryAt}`],
    [`delete from audit_chain_link where seq = $1`],
    [`delete from audit_entry where id = ${entryAt}`, `delete from audit_chain_link where seq = $1`],
  ][what]!;
  return {
    kind: "deleted",
    seq,
    run: async (query) => {
      for (const statement of statements) await query(statement, [seq]);
    },
  };
}

/** A forged record and its link put in at `seq`, the later links moved up; `linked`: its hashes made to fit. */
function insertion(seq: number, linked: boolean): Attack {
  return {
    kind: "inserted",
    seq,
    run: async (query, chain) => {
      await query(`update audit_chain_link set seq = -seq where seq >= $1`, [seq]);
      await query(`update audit_chain_link set seq = -seq + 1 where seq < 0`);
      const content = { ...chain[seq - 1]!.content, actor: "user:forger", reason: "backdated approval" };
      const prevHash = seq === 1 ? GENESIS_HASH : chain[seq - 2]!.hash;
      const contentHash = linked ? contentHashOf(content) : "ab".repeat(32);
      const hash = linked ? linkHashOf(prevHash, contentHash) : "cd".repeat(32);
      const { rows } = await query<{ id: string }>(
        `insert into audit_entry (at, actor, action, entity_type, entity_id, old_value, new_value, reason, request_id, content_hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
        [content.at, content.actor, content.action, content.entityType, content.entityId, content.oldValue, content.newValue, content.reason, content.requestId, contentHash],
      );
      await query(`insert into audit_chain_link (seq, entry_id, prev_hash, hash) values ($1, $2, $3, $4)`, [seq, rows[0]!.id, linked ? prevHash : "ef".repeat(32), hash]);
    },
  };
}

/** Two links trade places (their seq); `distance` 1 is a neighbour. */
function swap(seq: number, distance: number): Attack {
  return {
    kind: "reordered",
    seq,
    run: async (query) => {
      await query(`update audit_chain_link set seq = -1 where seq = $1`, [seq]);
      await query(`update audit_chain_link set seq = $1 where seq = $2`, [seq, seq + distance]);
      await query(`update audit_chain_link set seq = $1 where seq = -1`, [seq + distance]);
    },
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** A small seeded generator: a failing trial can be replayed with TAMPER_SEED. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
