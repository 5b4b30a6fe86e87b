import pg from "pg";
import type { RawQuery } from "../../src/db/database.js";
import { recordAudit, type AuditEntry } from "../../src/audit/audit.js";
import { linkAllPending } from "../../src/audit/chainer.js";
import type { Database } from "../../src/db/database.js";

/** `count` audit entries, one transaction each, with values that vary like real ones, then linked. */
export async function appendEntries(database: Database, count: number, label = "test"): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await database.db.transaction((tx) => recordAudit(tx, sampleEntry(i, label)));
  }
  await linkAllPending(database.db);
}

export function sampleEntry(i: number, label = "test"): AuditEntry {
  return {
    actor: `user:${label}-${i % 7}`,
    action: i % 3 === 0 ? "alarm.acknowledged" : "task.status_changed",
    entityType: i % 3 === 0 ? "alarm" : "task",
    entityId: i,
    oldValue: i % 2 === 0 ? { status: "open", n: i, nested: { b: 2, a: [1, "x", null] } } : null,
    newValue: { status: "done", n: i + 0.5, at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) },
    reason: i % 5 === 0 ? null : `because ${i} ünïcode ✓`,
    requestId: i % 4 === 0 ? `req-${i}` : null,
  };
}

/** A single connection (transactions, SET LOCAL) seen through the RawQuery the readers take. */
export async function connect(url: string): Promise<{ client: pg.Client; query: RawQuery; close(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const query: RawQuery = async (text, params) => {
    const result = await client.query(text, params);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  };
  return { client, query, close: () => client.end() };
}
