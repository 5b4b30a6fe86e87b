import { lexicographicSortSchema, printSchema } from "graphql";
import { buildGraphqlSchema } from "./schema.js";

export const SDL_PATH = "schema/schema.graphql";

/** The committed contract: sorted, so the file's diff shows only real changes. */
export async function printGraphqlSdl(): Promise<string> {
  const header = "# Emitted from the code-first types by `npm run schema:emit`. Do not edit by hand.\n\n";
  return header + printSchema(lexicographicSortSchema(await buildGraphqlSchema())) + "\n";
}
