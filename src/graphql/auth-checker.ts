import { GraphQLError } from "graphql";
import type { AuthChecker } from "type-graphql";
import { can, permissions, type Permission } from "../auth/permissions.js";
import { recordSecurityEvent } from "../auth/security-events.js";
import type { GraphqlContext } from "./context.js";

/**
 * Enforces `@Authorized("<permission>")`. A denial is an error the client sees (FORBIDDEN, naming
 * the permission) and a security event; recording it must not turn the denial into a 500.
 */
export const authChecker: AuthChecker<GraphqlContext> = async ({ context, info }, required) => {
  const missing = (required as Permission[]).filter((p) => !permissions.includes(p) || !can(context.identity, p));
  if (missing.length === 0) return true;
  const operation = `${info.parentType.name}.${info.fieldName}`;
  await recordSecurityEvent(context.database.db, {
    action: "auth.denied",
    actor: context.identity.id,
    outcome: "denied",
    resource: operation,
    detail: { role: context.identity.role, missing },
    requestId: context.requestId,
  }).catch((error: unknown) => context.log.error({ err: error }, "recording a denied operation failed"));
  throw new GraphQLError(`role ${context.identity.role} may not ${missing.join(", ")} (${operation})`, {
    extensions: { code: "FORBIDDEN", permission: missing[0] },
  });
};
