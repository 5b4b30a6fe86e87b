import type { Database } from "../db/database.js";
import { hasActiveAdminKey, verifyApiKey } from "./api-key.service.js";
import { AuthenticationError } from "./authentication.js";
import { seesSite, systemIdentity, type Identity } from "./identity.js";
import { can, type Permission } from "./permissions.js";
import { recordSecurityEvent } from "./security-events.js";

/**
 * The CLI's commands that change or reveal data, and the permission each needs: the same matrix
 * as GraphQL. `start`, `migrate` and `doctor` act on the hub itself and need only its settings.
 */
export const cliCommandPermissions = {
  apply: "asset.manage",
  "keys create": "apikey.manage",
  "keys list": "apikey.manage",
  "keys revoke": "apikey.manage",
  "secrets rotate": "integration.manage",
  "opcua trust": "opcua.manage",
  "audit verify": "audit.read",
  "audit export": "audit.export",
  "audit checkpoint": "audit.export",
  "lot export": "audit.export",
} as const satisfies Record<string, Permission>;
export type CliCommand = keyof typeof cliCommandPermissions;

export class CliDenied extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliDenied";
  }
}

/**
 * Who runs the command: the holder of PLANTGRAPH_API_KEY. Until the first admin key exists
 * there is nobody to ask, so the installer bootstraps as the hub itself.
 */
export async function cliIdentity(database: Database, apiKey: string | undefined): Promise<Identity> {
  if (apiKey) {
    try {
      return await verifyApiKey(database.db, apiKey);
    } catch (error) {
      if (error instanceof AuthenticationError) throw new CliDenied(`PLANTGRAPH_API_KEY: ${error.message}`);
      throw error;
    }
  }
  if (!(await hasActiveAdminKey(database.db))) return systemIdentity;
  throw new CliDenied("set PLANTGRAPH_API_KEY to an API key whose role may run this command (see README, Roles)");
}

/**
 * Refuses, and records, a command the identity's role may not run or that reaches sites outside
 * its scope. `sites`: the "enterprise/site" paths the command touches; null: every site.
 */
export async function authorizeCli(
  database: Database,
  identity: Identity,
  command: CliCommand,
  sites: readonly string[] | null,
): Promise<void> {
  const permission = cliCommandPermissions[command];
  const outside = sites === null ? (identity.scope.all ? [] : ["every site"]) : sites.filter((site) => !seesSite(identity.scope, site));
  const reason = !can(identity, permission)
    ? `role ${identity.role} may not ${permission}`
    : outside.length > 0
      ? `outside your sites: ${outside.join(", ")}`
      : undefined;
  if (!reason) return;
  await recordSecurityEvent(database.db, {
    action: "auth.denied",
    actor: identity.id,
    outcome: "denied",
    resource: `cli:${command}`,
    detail: { role: identity.role, permission, outside },
  });
  throw new CliDenied(`plantgraph ${command}: ${reason}`);
}
