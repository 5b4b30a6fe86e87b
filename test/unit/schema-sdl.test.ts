import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { printGraphqlSdl, SDL_PATH } from "../../src/graphql/schema-sdl.js";

describe("the committed GraphQL SDL", () => {
  it("matches the schema the code builds (run `npm run schema:emit` after changing types)", async () => {
    const committed = await readFile(SDL_PATH, "utf8");
    expect(await printGraphqlSdl()).toBe(committed);
  });

  it("keeps the contract the frontend relies on", async () => {
    const sdl = await printGraphqlSdl();
    for (const fragment of [
      "machines(",
      "node(id: ID!): Node",
      "readingAdded(",
      "quarantine(",
      "series(",
      "scalar DateTime",
      "scalar JSON",
    ]) {
      expect(sdl).toContain(fragment);
    }
  });
});
