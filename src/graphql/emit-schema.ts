import "reflect-metadata";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { printGraphqlSdl, SDL_PATH } from "./schema-sdl.js";

await writeFile(path.resolve(process.cwd(), SDL_PATH), await printGraphqlSdl());
console.log(`wrote ${SDL_PATH}`);
