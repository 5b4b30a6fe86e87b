/** A GraphQL enum object for a list of snake_case values: names upper-cased, values kept. */
export const upperEnum = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v.toUpperCase(), v])) as Record<Uppercase<T>, T>;
