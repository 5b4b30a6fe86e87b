import { sql, type SQL } from "drizzle-orm";

/**
 * `$1`-style SQL as a drizzle SQL object, each value bound as ONE parameter (arrays included):
 * hand-written unnest statements can then run inside a drizzle transaction.
 */
export function rawSql(text: string, params: readonly unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  parts.forEach((part, i) => chunks.push(i % 2 === 0 ? sql.raw(part) : sql`${sql.param(params[Number(part) - 1])}`));
  return sql.join(chunks, sql.raw(""));
}
