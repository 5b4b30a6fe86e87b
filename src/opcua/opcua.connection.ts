import type { ClientSession, OPCUACertificateManager, OPCUAClient, UserIdentityInfo } from "node-opcua";
import type { OpcuaIdentityKind, OpcuaSecurityMode, OpcuaSecurityPolicy } from "../../schema/db/opcua.js";
import { loadNodeOpcua, type NodeOpcua } from "./node-opcua.js";

/** What it takes to open a session on one endpoint, secrets opened. */
export interface EndpointSettings {
  readonly name: string;
  readonly url: string;
  readonly securityMode: OpcuaSecurityMode;
  readonly securityPolicy: OpcuaSecurityPolicy;
  readonly identity: EndpointIdentity;
}

export type EndpointIdentity =
  | { readonly kind: Extract<OpcuaIdentityKind, "anonymous"> }
  | { readonly kind: Extract<OpcuaIdentityKind, "username">; readonly username: string; readonly password: string }
  | { readonly kind: Extract<OpcuaIdentityKind, "x509">; readonly certificate: string; readonly privateKey: string };

export interface OpcuaConnection {
  readonly ua: NodeOpcua;
  readonly client: OPCUAClient;
  readonly session: ClientSession;
  /** The server's namespace URIs, read at connect: NodeIds are stored with URIs, sent with indexes. */
  readonly namespaceArray: string[];
  close(): Promise<void>;
}

export const APPLICATION_NAME = "plantgraph";
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The hub's OPC UA client PKI: its own application certificate (made on first use) and the trust
 * list of server certificates. Unknown server certificates land in `rejected/` and are refused
 * until `plantgraph opcua trust` moves them to `trusted/`.
 */
export async function openClientPki(rootFolder: string): Promise<OPCUACertificateManager> {
  const ua = await loadNodeOpcua();
  const manager = new ua.OPCUACertificateManager({ rootFolder, automaticallyAcceptUnknownCertificate: false, name: "PKI" });
  await manager.initialize();
  return manager;
}

/** A client with one attempt per connect: reconnecting and its backoff belong to the caller. */
export async function openConnection(settings: EndpointSettings, pki: OPCUACertificateManager): Promise<OpcuaConnection> {
  const ua = await loadNodeOpcua();
  const client = ua.OPCUAClient.create({
    applicationName: APPLICATION_NAME,
    applicationUri: `urn:${APPLICATION_NAME}:hub`,
    clientCertificateManager: pki,
    securityMode: ua.MessageSecurityMode[settings.securityMode],
    securityPolicy: ua.SecurityPolicy[settings.securityPolicy],
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 1_000 },
    transportTimeout: CONNECT_TIMEOUT_MS,
    requestedSessionTimeout: 60_000,
    // An endpoint without items has no publish traffic to keep its session from timing out.
    keepSessionAlive: true,
  });
  try {
    await client.connect(settings.url);
    const session = await client.createSession(userIdentity(ua, settings.identity));
    const namespaceArray = await session.readNamespaceArray();
    return {
      ua,
      client,
      session,
      namespaceArray,
      close: async () => {
        await session.close(true).catch(() => {});
        await client.disconnect().catch(() => {});
      },
    };
  } catch (error) {
    await client.disconnect().catch(() => {});
    throw new Error(explainConnectError(settings, error));
  }
}

function userIdentity(ua: NodeOpcua, identity: EndpointIdentity): UserIdentityInfo {
  switch (identity.kind) {
    case "anonymous":
      return { type: ua.UserTokenType.Anonymous };
    case "username":
      return { type: ua.UserTokenType.UserName, userName: identity.username, password: identity.password };
    case "x509":
      return { type: ua.UserTokenType.Certificate, certificateData: pemToDer(identity.certificate), privateKey: identity.privateKey };
  }
}

/** The first certificate of a PEM text, as DER. */
export function pemToDer(pem: string): Buffer {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw new Error("expected a PEM certificate (-----BEGIN CERTIFICATE-----)");
  return Buffer.from(match[1]!.replace(/\s+/g, ""), "base64");
}

/** node-opcua's messages name internals; these say what to do. */
function explainConnectError(settings: EndpointSettings, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/server Certificate verification failed/i.test(message)) {
    return `the server certificate of ${settings.url} is not trusted: check it, then run \`plantgraph opcua trust ${settings.name}\` (${message})`;
  }
  if (/BadSecurityChecksFailed|BadCertificate/i.test(message)) {
    return `${settings.url} refused the hub's application certificate (own/certs in OPCUA_PKI_DIR): trust it on the server (${message})`;
  }
  if (/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/i.test(message)) {
    return `${settings.url} refused the ${settings.identity.kind} identity: ${message}`;
  }
  if (/cannot find endpoint/i.test(message)) {
    return `${settings.url} offers no endpoint with security ${settings.securityMode} / ${settings.securityPolicy}`;
  }
  return `cannot connect to ${settings.url}: ${message}`;
}
