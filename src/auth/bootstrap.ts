import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { createApiKey, hasActiveAdminKey } from "./api-key.service.js";
import { recordSecurityEvent } from "./security-events.js";

/**
 * Makes sure someone can get in, without a default password: the embedded demo issues a random
 * admin key once and shows it in the log; production refuses to start with no way to sign in.
 */
export async function ensureBootstrapAccess({ config, database, log }: { config: Config; database: Database; log: Logger }): Promise<void> {
  const { db } = database;
  if (config.env === "production") {
    if (!config.oidc && !(await hasActiveAdminKey(db))) {
      throw new Error(
        "no way to sign in: there is no active admin API key and no OIDC issuer. " +
          "Create a key with `plantgraph keys create --name admin --role admin` (same DATABASE_URL), " +
          "or set OIDC_ISSUER and OIDC_AUDIENCE.",
      );
    }
    return;
  }
  if (config.database.url) return;
  if (await hasActiveAdminKey(db)) {
    log.info("demo: an admin API key was issued on an earlier start; lost it? stop the hub and run `plantgraph keys create --name admin --role admin`");
    return;
  }
  const { key, row } = await createApiKey(db, { name: "demo-admin", role: "admin", sites: null, createdBy: "system" });
  await recordSecurityEvent(db, { action: "demo_key.issued", actor: "system", outcome: "success", resource: `key:${row.id}`, detail: { prefix: row.prefix } });
  // Deliberately in the message: the person starting the demo has no other way to learn it.
  log.warn(`demo admin API key (shown once): ${key}`);
}
