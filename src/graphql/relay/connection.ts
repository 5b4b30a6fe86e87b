import { ArgsType, Field, Int, ObjectType, type ClassType } from "type-graphql";
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

export interface ConnectionOf<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** `<Name>Edge` and `<Name>Connection` object types for a node type, Relay style with a total count. */
export function connectionTypes<Node extends object>(node: ClassType<Node>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => node)
    node!: Node;
  }

  @ObjectType(`${name}Connection`)
  class Connection implements ConnectionOf<Node> {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: "Matching the filter, on all pages." })
    totalCount!: number;
  }

  return { Edge, Connection };
}

/** A connection over a page of rows fetched newest first by numeric id with `limit + 1` rows. */
export function idConnection<Row, Node extends object>(
  types: ReturnType<typeof connectionTypes<Node>>,
  page: { rows: readonly Row[]; totalCount: number },
  limit: number,
  beforeId: number | undefined,
  idOf: (row: Row) => number,
  toNode: (row: Row) => Node,
): ConnectionOf<Node> {
  const { edges, pageInfo } = pageOf(page.rows, limit, beforeId !== undefined, (row) => String(idOf(row)), (cursor, row) =>
    Object.assign(new types.Edge(), { cursor, node: toNode(row) }),
  );
  return Object.assign(new types.Connection(), { edges, pageInfo, totalCount: page.totalCount });
}

/** `first` and `after` of a forward-paged list; list arguments extend it. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 50, description: "Page size, at most 500." })
  first!: number;

  @Field(() => String, { nullable: true })
  after?: string;
}
