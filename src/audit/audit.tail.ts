import type { DbOrTx, RawQuery } from "../db/database.js";
import { chainHead } from "./audit.queries.js";
import { entriesAfter, type AuditEntryRow } from "./audit-entry.queries.js";

const PAGE = 200;

/**
 * Follows the chain from its current head: every entry linked from now on, in chain order.
 * Audit rows are written inside every service's transactions in every process, so instead of a
 * publish at each of those sites this polls by seq: the chainer links in one serialized sequence
 * and commits each batch whole, so the linked entries are always a gap-free prefix and a follower
 * can neither miss one nor see one before its commit. `return()` (the subscriber leaving) ends
 * the wait at once.
 */
export async function tailAuditEntries(
  database: { db: DbOrTx; query: RawQuery },
  intervalMs: number,
  wanted: (row: AuditEntryRow) => boolean = () => true,
): Promise<AsyncIterableIterator<AuditEntryRow>> {
  let last = (await chainHead(database.query)).seq;
  let buffer: AuditEntryRow[] = [];
  let stopped = false;
  let wake: (() => void) | undefined;
  const done = { value: undefined, done: true } as const;
  /** Until the next poll, or until the subscriber leaves. */
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const iterator: AsyncIterableIterator<AuditEntryRow> = {
    async next() {
      while (!stopped) {
        const entry = buffer.shift();
        if (entry) return { value: entry, done: false };
        const page = await entriesAfter(database.db, last, PAGE);
        if (page.length === 0) {
          await pause();
          continue;
        }
        last = page.at(-1)!.seq!;
        buffer = page.filter(wanted);
      }
      return done;
    },
    async return() {
      stopped = true;
      wake?.();
      return done;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
