import { Field, ID, InterfaceType, ObjectType } from "type-graphql";
import { fromGlobalId, toGlobalId } from "graphql-relay";
import { GraphQLError } from "graphql";

/** Relay's Node: every object with a global id can be re-fetched with `node(id)`. */
@InterfaceType("Node", { description: "An object with a globally unique, opaque id." })
export abstract class Node {
  @Field(() => ID)
  id!: string;
}

@ObjectType("PageInfo")
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean)
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor?: string;

  @Field(() => String, { nullable: true })
  endCursor?: string;
}

export const nodeTypes = ["Enterprise", "Site", "Area", "Line", "Machine", "DataPoint"] as const;
export type NodeTypeName = (typeof nodeTypes)[number];

export const globalId = (type: NodeTypeName, id: number): string => toGlobalId(type, String(id));

/** Decodes a global id; undefined when it is malformed or of another type than `expected`. */
export function parseGlobalId(id: string, expected?: NodeTypeName): { type: NodeTypeName; id: number } | undefined {
  let decoded: { type: string; id: string };
  try {
    decoded = fromGlobalId(id);
  } catch {
    return undefined;
  }
  const numeric = Number(decoded.id);
  if (!(nodeTypes as readonly string[]).includes(decoded.type) || !isDatabaseId(numeric)) return undefined;
  if (expected && decoded.type !== expected) return undefined;
  return { type: decoded.type as NodeTypeName, id: numeric };
}

const MAX_SERIAL = 2 ** 31 - 1;

/** A value a serial (int4) primary key can hold; anything else names no row and would make PostgreSQL fail. */
export function isDatabaseId(value: number): boolean {
  return Number.isInteger(value) && value > 0 && value <= MAX_SERIAL;
}

/** A plain numeric id ("42") as given for API keys and integrations; undefined when it cannot name a row. */
export function parseDatabaseId(id: string): number | undefined {
  const numeric = /^[1-9][0-9]{0,9}$/.test(id) ? Number(id) : Number.NaN;
  return isDatabaseId(numeric) ? numeric : undefined;
}

export function badInput(message: string, argument: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", argument } });
}

export const encodeCursor = (value: string): string => Buffer.from(`cursor:${value}`, "utf8").toString("base64url");

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!text.startsWith("cursor:")) throw badInput("`after` is not a cursor this API handed out", "after");
  return text.slice("cursor:".length);
}

/** The id a keyset cursor over a numeric id carries; undefined for the first page. */
export function decodeIdCursor(after: string | null | undefined): number | undefined {
  if (after == null) return undefined;
  const id = Number(decodeCursor(after));
  if (!Number.isSafeInteger(id)) throw badInput("`after` is not a cursor this API handed out", "after");
  return id;
}

export const MAX_PAGE_SIZE = 500;

export function pageSize(first: number): number {
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput(`\`first\` must be a whole number from 0 to ${MAX_PAGE_SIZE}`, "first");
  }
  return first;
}
