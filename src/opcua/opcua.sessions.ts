import type { OPCUACertificateManager } from "node-opcua";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import type { SecretBox } from "../secrets/secret-box.js";
import { loadNodeOpcua } from "./node-opcua.js";
import { endpointSettings, getEndpoint } from "./opcua-endpoint.service.js";
import { openClientPki, openConnection, type OpcuaConnection } from "./opcua.connection.js";
import { OpcuaOperationError } from "./opcua.operations.js";

/**
 * The hub's client PKI, opened on first use, and short sessions on an endpoint for processes that
 * do not run it (an api-only replica browsing, say).
 */
export class OpcuaSessions {
  private pki: Promise<OPCUACertificateManager> | undefined;

  constructor(
    private readonly database: Database,
    private readonly box: SecretBox | undefined,
    private readonly pkiDir: string,
    private readonly log: Logger,
  ) {}

  clientPki(): Promise<OPCUACertificateManager> {
    this.pki ??= loadNodeOpcua(this.log).then(() => openClientPki(this.pkiDir));
    return this.pki;
  }

  /** Opens a session on the endpoint for `use`, and closes it after. */
  async temporary<T>(endpointId: number, use: (connection: OpcuaConnection) => Promise<T>): Promise<T> {
    const row = await getEndpoint(this.database.db, endpointId);
    if (!row) throw new OpcuaOperationError("not_found", `no OPC UA endpoint has id ${endpointId}`);
    let connection: OpcuaConnection;
    try {
      connection = await openConnection(endpointSettings(this.box, row), await this.clientPki());
    } catch (error) {
      throw new OpcuaOperationError("unavailable", (error as Error).message);
    }
    try {
      return await use(connection);
    } finally {
      await connection.close();
    }
  }

  async close(): Promise<void> {
    const pki = await this.pki?.catch(() => undefined);
    this.pki = undefined;
    await pki?.dispose();
  }
}
