import { encodeCursor, PageInfo } from "./node.type.js";

/**
 * Edges and page info from a page fetched with `limit + 1` rows: the extra row only tells that
 * another page exists.
 */
export function pageOf<Row, Edge>(
  rows: readonly Row[],
  limit: number,
  hasPreviousPage: boolean,
  cursorValue: (row: Row) => string,
  toEdge: (cursor: string, row: Row) => Edge,
): { edges: Edge[]; pageInfo: PageInfo } {
  const cursors = rows.slice(0, limit).map((row) => encodeCursor(cursorValue(row)));
  return {
    edges: rows.slice(0, limit).map((row, i) => toEdge(cursors[i]!, row)),
    pageInfo: Object.assign(new PageInfo(), {
      hasNextPage: rows.length > limit,
      hasPreviousPage,
      startCursor: cursors[0],
      endCursor: cursors.at(-1),
    }),
  };
}
