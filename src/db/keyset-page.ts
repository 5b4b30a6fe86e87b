import { and, lt, sql, type AnyColumn, type SQL } from "drizzle-orm";

/** `count(*)` as a number, for the total counts of pages. */
export const countAll = { n: sql<number>`count(*)::int` };

/**
 * A page newest first by a numeric id, and how many rows match in all. `rows` gets the condition
 * of the page (`where` and ids below `beforeId`) and orders and limits itself; `count` gets `where`.
 */
export async function newestFirstPage<Row>(
  id: AnyColumn,
  where: SQL | undefined,
  beforeId: number | undefined,
  rows: (pageWhere: SQL | undefined) => Promise<Row[]>,
  count: (where: SQL | undefined) => Promise<{ n: number }[]>,
): Promise<{ rows: Row[]; totalCount: number }> {
  const pageWhere = beforeId === undefined ? where : and(where, lt(id, beforeId));
  const [list, [total]] = await Promise.all([rows(pageWhere), count(where)]);
  return { rows: list, totalCount: total?.n ?? 0 };
}
