import { z } from "zod";

/** MeisterTask ids are numbers; settings may hold them as numbers or digit strings. */
const id = z.union([z.number().int().positive(), z.string().regex(/^\d+$/, "a numeric MeisterTask id")]).transform(String);

export const meisterTaskConfigSchema = z
  .object({
    baseUrl: z
      .url()
      .default("https://www.meistertask.com")
      .transform((url) => url.replace(/\/+$/, "")),
    /** A MindMeister personal access token with the `meistertask` scope (sent as Bearer). */
    apiToken: z.string().min(1),
    projectId: id,
    /** The section (column) new tasks go to. */
    sectionId: id,
    /** The column that means "in progress"; without it the hub cannot move tasks to in progress. */
    inProgressSectionId: id.optional(),
    /** The column completed tasks move to (they are also marked completed). */
    doneSectionId: id.optional(),
  })
  .strict();

export type MeisterTaskConfig = z.output<typeof meisterTaskConfigSchema>;
