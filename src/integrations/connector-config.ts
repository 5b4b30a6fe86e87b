import type { AnyConnector, ConnectorContext } from "../../connectors/sdk/types.js";
import { connectorFor } from "../../connectors/index.js";
import type { DbOrTx } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import type { SecretBox } from "../secrets/secret-box.js";
import { getIntegration, openSecrets, type IntegrationRow } from "./integration.service.js";

/** Connector calls give up after this long; the job retries. */
const CALL_TIMEOUT_MS = 30_000;

export interface ReadyIntegration {
  row: IntegrationRow;
  connector: AnyConnector;
  /** Settings and secrets merged and validated by the connector's schema: for workers only. */
  config: unknown;
}

export class IntegrationConfigError extends Error {
  override readonly name = "IntegrationConfigError";
}

/**
 * Opened and validated configs by integration id and version: decrypting and parsing once per
 * change, not once per job. A changed integration has a new version, so it is never served stale.
 */
const prepared = new Map<number, { version: number; connector: AnyConnector; config: unknown }>();
const PREPARED_MAX = 500;

/** An integration ready to call. Throws IntegrationConfigError when it cannot be (kind unknown, config invalid). */
export async function readyIntegration(db: DbOrTx, box: SecretBox | undefined, id: number): Promise<ReadyIntegration | undefined> {
  const row = await getIntegration(db, id);
  return row && prepareIntegration(box, row);
}

/** The connector and its validated config for a row already read (cached per version). */
export function prepareIntegration(box: SecretBox | undefined, row: IntegrationRow): ReadyIntegration {
  const cached = prepared.get(row.id);
  if (cached?.version === row.version) return { row, connector: cached.connector, config: cached.config };
  const connector = connectorFor(row.kind);
  if (!connector) throw new IntegrationConfigError(`integration ${row.name}: no connector of kind "${row.kind}"`);
  const merged = { ...row.config, ...openSecrets(box, row) };
  const parsed = connector.configSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
    throw new IntegrationConfigError(`integration ${row.name}: invalid ${row.kind} config: ${problems}`);
  }
  if (prepared.size >= PREPARED_MAX) prepared.clear();
  prepared.set(row.id, { version: row.version, connector, config: parsed.data });
  return { row, connector, config: parsed.data };
}

export function connectorContext(log: Logger, timeoutMs = CALL_TIMEOUT_MS): ConnectorContext {
  return { fetch: globalThis.fetch, log, signal: AbortSignal.timeout(timeoutMs), now: () => new Date() };
}
