/**
 * A GraphQL enum object for a list of values: names upper-cased with anything but letters and
 * digits as "_" ("auth.failed" → AUTH_FAILED), values kept as the code knows them.
 */
export const upperEnum = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v.toUpperCase().replace(/[^A-Z0-9]/g, "_"), v])) as Record<string, T>;
