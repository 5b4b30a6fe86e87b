import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigError, type Config } from "../config.js";

/**
 * Reads the PEM files the transport settings name, once at start. A missing, unreadable or wrong
 * file stops the process with a message naming the variable and the path, instead of surfacing
 * later as an opaque handshake failure.
 */

export interface MqttTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface HttpsCredentials {
  cert: Buffer;
  key: Buffer;
}

export interface DatabaseSsl {
  ca: Buffer;
}

/** Only these schemes carry TLS in mqtt.js; with any other the files would be silently ignored. */
const MQTT_TLS_SCHEMES = ["mqtts://", "wss://"];
/** pg lets these URL parameters replace an `ssl` object wholesale, which would drop the CA. */
const PG_SSL_FILE_PARAMS = ["sslrootcert", "sslcert", "sslkey"];

export async function readMqttTls(config: Config): Promise<MqttTls | undefined> {
  const { caFile, certFile, keyFile } = config.tls.mqtt;
  if (!caFile && !certFile) return undefined;
  const variable = caFile ? "MQTT_CA_FILE" : "MQTT_CERT_FILE";
  const { url } = config.mqtt;
  if (!url) {
    throw new ConfigError([`${variable}: set, but MQTT_URL is not: the embedded demo broker speaks plain MQTT. Set MQTT_URL to your broker's mqtts:// address`]);
  }
  if (!MQTT_TLS_SCHEMES.some((scheme) => url.startsWith(scheme))) {
    throw new ConfigError([`MQTT_URL: expected mqtts:// or wss:// since ${variable} is set; other schemes do not use TLS`]);
  }
  const [ca, pair] = await collect([
    caFile ? readPem("MQTT_CA_FILE", caFile, "certificate") : Promise.resolve(undefined),
    certFile && keyFile ? readKeyPair(["MQTT_CERT_FILE", certFile], ["MQTT_KEY_FILE", keyFile]) : Promise.resolve(undefined),
  ] as const);
  return { ...(ca ? { ca } : {}), ...pair };
}

export async function readHttpsCredentials(config: Config): Promise<HttpsCredentials | undefined> {
  const files = config.tls.https;
  return files ? readKeyPair(["HTTPS_CERT_FILE", files.certFile], ["HTTPS_KEY_FILE", files.keyFile]) : undefined;
}

export async function readDatabaseSsl(config: Config): Promise<DatabaseSsl | undefined> {
  const caFile = config.tls.databaseCaFile;
  if (!caFile) return undefined;
  if (!config.database.url) {
    throw new ConfigError(["DATABASE_CA_FILE: set, but DATABASE_URL is not: the embedded database has no connection to protect"]);
  }
  const params = queryOf(config.database.url);
  if (params.get("sslmode") === "disable" || params.get("ssl") === "false" || params.get("ssl") === "0") {
    throw new ConfigError(["DATABASE_URL: turns TLS off, but DATABASE_CA_FILE is set; drop one of the two"]);
  }
  const inUrl = PG_SSL_FILE_PARAMS.filter((p) => params.has(p));
  if (inUrl.length > 0) {
    throw new ConfigError([`DATABASE_URL: carries ${inUrl.join(", ")}, which cannot be combined with DATABASE_CA_FILE; name the CA in one place`]);
  }
  return { ca: await readPem("DATABASE_CA_FILE", caFile, "certificate") };
}

/** Every transport file, each problem reported: for `plantgraph doctor`, which lists rather than stops. */
export async function transportFileProblems(config: Config): Promise<string[]> {
  const results = await Promise.allSettled([readMqttTls(config), readHttpsCredentials(config), readDatabaseSsl(config)]);
  return results.flatMap((r) => (r.status === "rejected" ? problemsOf(r.reason) : []));
}

/** The query parameters of a connection URL, without requiring the rest to parse as a URL. */
export function queryOf(url: string): URLSearchParams {
  const query = url.indexOf("?");
  return new URLSearchParams(query < 0 ? "" : url.slice(query + 1));
}

type PemKind = "certificate" | "private key";

async function readPem(variable: string, file: string, kind: PemKind): Promise<Buffer> {
  const { content } = await readParsed(variable, file, kind);
  return content;
}

async function readKeyPair([certVariable, certFile]: [string, string], [keyVariable, keyFile]: [string, string]): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await collect([readParsed(certVariable, certFile, "certificate"), readParsed(keyVariable, keyFile, "private key")] as const);
  if (!(cert.parsed as X509Certificate).checkPrivateKey(key.parsed as KeyObject)) {
    throw new ConfigError([`${keyVariable}: ${JSON.stringify(keyFile)} is not the private key of the certificate in ${certVariable}`]);
  }
  return { cert: cert.content, key: key.content };
}

async function readParsed(variable: string, file: string, kind: PemKind): Promise<{ content: Buffer; parsed: X509Certificate | KeyObject }> {
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (error) {
    throw new ConfigError([`${variable}: cannot read ${JSON.stringify(file)} (${reasonOf(error)})`]);
  }
  try {
    return { content, parsed: kind === "certificate" ? new X509Certificate(content) : createPrivateKey(content) };
  } catch {
    const expected = kind === "certificate" ? "a PEM certificate" : "an unencrypted PEM private key";
    throw new ConfigError([`${variable}: ${JSON.stringify(file)} does not hold ${expected}`]);
  }
}

/** Awaits all, so one error can name every bad file rather than the first. */
async function collect<T extends readonly unknown[]>(reads: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(reads);
  const problems = results.flatMap((r) => (r.status === "rejected" ? problemsOf(r.reason) : []));
  if (problems.length > 0) throw new ConfigError(problems);
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function problemsOf(error: unknown): string[] {
  if (error instanceof ConfigError) return error.problems;
  throw error;
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return (error as Error).message;
}
