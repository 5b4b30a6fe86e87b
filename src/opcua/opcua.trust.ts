import { X509Certificate } from "node:crypto";
import { loadNodeOpcua } from "./node-opcua.js";
import { openClientPki } from "./opcua.connection.js";

export interface TrustedCertificate {
  /** SHA-1 of the DER, as OPC UA tools show it. */
  thumbprint: string;
  subject: string;
}

/**
 * Adds a DER certificate to the trust list of the PKI in `pkiDir`: the one way a server
 * certificate becomes trusted (`plantgraph opcua trust`, and the demo for its own simulator).
 */
export async function trustCertificate(pkiDir: string, certificate: Buffer): Promise<TrustedCertificate> {
  const pki = await openClientPki(pkiDir);
  try {
    await pki.trustCertificate(certificate);
  } finally {
    await pki.dispose();
  }
  return describeCertificate(certificate);
}

/**
 * Asks the server for its application certificate: GetEndpoints, which the specification allows on
 * an unsecured channel. Nothing is trusted here; an operator checks the thumbprint first.
 */
export async function fetchServerCertificate(url: string): Promise<Buffer> {
  const ua = await loadNodeOpcua();
  const client = ua.OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 1_000 } });
  try {
    await client.connect(url);
    const endpoints = await client.getEndpoints();
    const withCertificate = endpoints.find((e) => e.serverCertificate && e.serverCertificate.length > 0);
    if (!withCertificate) throw new Error(`${url} sent no server certificate`);
    // A chain starts with the server's own certificate.
    return firstDerElement(Buffer.from(withCertificate.serverCertificate));
  } finally {
    await client.disconnect().catch(() => {});
  }
}

export function describeCertificate(der: Buffer): TrustedCertificate {
  const certificate = new X509Certificate(der);
  return { thumbprint: certificate.fingerprint.replace(/:/g, "").toLowerCase(), subject: certificate.subject.replace(/\n/g, ", ") };
}

/** The first element of concatenated DER (a certificate chain): its ASN.1 header gives its length. */
export function firstDerElement(der: Buffer): Buffer {
  const first = der[1] ?? 0;
  if (first < 0x80) return der.subarray(0, 2 + first);
  const lengthBytes = first & 0x7f;
  const length = der.subarray(2, 2 + lengthBytes).reduce((n, byte) => n * 256 + byte, 0);
  return der.subarray(0, 2 + lengthBytes + length);
}
