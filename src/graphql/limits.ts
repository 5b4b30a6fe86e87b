import { ApolloArmor } from "@escape.tech/graphql-armor";
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ParseOptions, type ValidationRule } from "graphql";
import type { Config } from "../config.js";

/**
 * What a GraphQL document may ask for, the same over HTTP and WebSocket: both transports take
 * their parse options and validation rules from here, and format their errors with
 * `publicMessage`.
 */
export interface GraphqlLimits {
  /** The token limit, enforced by graphql's own parser so an oversized document is never built. */
  readonly parseOptions: ParseOptions;
  /** To run after graphql's specifiedRules: depth, cost, aliases, directives; no introspection in production. */
  readonly validationRules: readonly ValidationRule[];
  /** Schema hints ("Did you mean ...?") stay in messages outside production only. */
  readonly suggestions: boolean;
}

/** `enforce: false` drops the query limits (benchmark baseline); the production switches stay. */
export function graphqlLimits(config: Pick<Config, "env" | "graphqlLimits">, { enforce }: { enforce: boolean }): GraphqlLimits {
  const production = config.env === "production";
  const limits = config.graphqlLimits;
  const armorRules = enforce
    ? new ApolloArmor({
        maxDepth: { n: limits.maxDepth, ...reportAs("maxDepth") },
        costLimit: { maxCost: limits.maxCost, ...reportAs("maxCost") },
        maxAliases: { n: limits.maxAliases, ...reportAs("maxAliases") },
        maxDirectives: { n: limits.maxDirectives, ...reportAs("maxDirectives") },
        // Armor's token plugin parses every document a second time; parseOptions.maxTokens does not.
        maxTokens: { enabled: false },
        // Its plugin only reaches Apollo's errors; publicMessage serves both transports.
        blockFieldSuggestion: { enabled: false },
      }).protect().validationRules
    : [];
  return Object.freeze({
    parseOptions: enforce ? { maxTokens: limits.maxTokens } : {},
    validationRules: Object.freeze([
      ...armorRules,
      NoNulCharacterRule,
      ...(production ? [NoSchemaIntrospectionCustomRule] : []),
    ]),
    suggestions: !production,
  });
}

type ArmorConfig = NonNullable<ConstructorParameters<typeof ApolloArmor>[0]>;

/**
 * Armor words every refusal as a "Syntax Error"; the client gets the plain limit message instead
 * ("Query depth limit of 12 exceeded, found 14.") and the limit's name as `extensions.limit`.
 */
function reportAs(limit: string): Pick<NonNullable<ArmorConfig["maxDepth"]>, "propagateOnRejection" | "onReject"> {
  return {
    propagateOnRejection: false,
    onReject: [
      (context, error) =>
        context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ""), { extensions: { code: "GRAPHQL_VALIDATION_FAILED", limit } })),
    ],
  };
}

const NUL = "\u0000";
const NUL_MESSAGE = "strings must not contain the NUL character (U+0000): it cannot be stored";

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so no input anywhere may carry it; refused here
 * once instead of surfacing as a database error in whichever resolver meets it first.
 */
const NoNulCharacterRule: ValidationRule = (context) => ({
  StringValue(node) {
    if (node.value.includes(NUL)) context.reportError(new GraphQLError(NUL_MESSAGE, { nodes: node }));
  },
});

/** The same refusal for variables, which validation never sees: a BAD_USER_INPUT error, or undefined. */
export function refuseNulInVariables(variables: unknown): GraphQLError | undefined {
  const pending: unknown[] = [variables];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === "string") {
      if (value.includes(NUL)) return new GraphQLError(NUL_MESSAGE, { extensions: { code: "BAD_USER_INPUT" } });
    } else if (Array.isArray(value)) {
      pending.push(...value);
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) pending.push(key, item);
    }
  }
  return undefined;
}

const SUGGESTION = / ?Did you mean .+\?$/;

/** The message a client sees: without schema hints when they are off. */
export function publicMessage(limits: GraphqlLimits, message: string): string {
  return limits.suggestions ? message : message.replace(SUGGESTION, "");
}
