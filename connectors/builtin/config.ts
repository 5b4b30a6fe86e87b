import { z } from "zod";

/** The hub's own board needs no settings. */
export const builtinConfigSchema = z.object({}).strict();
export type BuiltinConfig = z.output<typeof builtinConfigSchema>;
