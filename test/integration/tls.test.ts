import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import type http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { MqttClient } from "mqtt";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { ConfigError, parseConfig } from "../../src/config.js";
import { openDatabase, postgresConnection } from "../../src/db/database.js";
import { startHub, type Hub } from "../../src/hub.js";
import { MqttSource } from "../../src/ingest/mqtt.source.js";
import { createLogger } from "../../src/log/logger.js";
import type { RawReading } from "../../src/telemetry/sample.js";
import { createListener } from "../../src/tls/http-listener.js";
import { readDatabaseSsl, readHttpsCredentials, readMqttTls, type MqttTls } from "../../src/tls/tls-files.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { oneMachinePath, oneMachinePlant } from "../support/plant.js";
import { connectPublisher, sleep, waitUntil } from "../support/hub-process.js";
import { startPrivateMosquitto, type PrivateMosquitto } from "../support/mosquitto.js";
import { createTestPki, type TestPki } from "../support/pki.js";
import { TEST_POSTGRES_URL } from "../support/services.js";

/**
 * Transport security against real peers: a private Mosquitto with a TLS listener that requires
 * client certificates, an HTTPS listener, and the local PostgreSQL. Certificates come from a
 * throwaway CA made with openssl for this run.
 */

const log = createLogger("silent");
/** What Node reports for a chain it cannot trust, depending on whether the peer sends its CA too. */
const UNTRUSTED = /self-signed certificate in certificate chain|unable to (verify the first certificate|get local issuer certificate)/;
const suffix = randomBytes(4).toString("hex");

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(async () => {
  await pki?.remove();
});

/** The MQTT_* settings a production hub would carry, pointing at this run's PKI. */
function mqttEnv(url: string, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { MQTT_URL: url, MQTT_CA_FILE: pki.ca, MQTT_CERT_FILE: pki.client.cert, MQTT_KEY_FILE: pki.client.key, ...overrides };
}

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

describe("MQTT over TLS with client certificates", () => {
  let broker: PrivateMosquitto;
  const sources: MqttSource[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await startPrivateMosquitto({ tls: { cafile: pki.ca, certfile: pki.server.cert, keyfile: pki.server.key } });
  });
  afterEach(async () => {
    await Promise.all([...sources.splice(0).map((s) => s.stop()), ...clients.splice(0).map((c) => c.endAsync(true))]);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  async function startSource(tls: MqttTls | undefined, onReading: (r: RawReading) => void = () => {}): Promise<MqttSource> {
    const source = new MqttSource({
      url: broker.url,
      clientId: `tls-${suffix}-${sources.length}`,
      sessionExpirySeconds: 10,
      receiveMaximum: 100,
      tls,
      log,
    });
    sources.push(source);
    await source.start(async (reading) => onReading(reading));
    return source;
  }

  async function tlsPublisher(): Promise<MqttClient> {
    const [ca, cert, key] = await Promise.all([readFile(pki.ca), readFile(pki.client.cert), readFile(pki.client.key)]);
    const client = await connectPublisher(broker.url, `tls-pub-${suffix}`, { ca, cert, key, rejectUnauthorized: true });
    clients.push(client);
    return client;
  }

  it("connects with the CA and client certificate from MQTT_CA_FILE, MQTT_CERT_FILE, MQTT_KEY_FILE and receives", async () => {
    const tls = await readMqttTls(parseConfig(mqttEnv(broker.url)));
    expect(tls).toEqual({ ca: await readFile(pki.ca), cert: await readFile(pki.client.cert), key: await readFile(pki.client.key) });

    const received: RawReading[] = [];
    const source = await startSource(tls, (r) => received.push(r));
    expect(source.status()).toMatchObject({ state: "online" });
    const topic = `tls-${suffix}/site/area/line/press/temperature`;
    await source.setFilters([topic]);
    expect(source.status().subscriptions).toEqual({ wanted: 1, active: 1 });

    const publisher = await tlsPublisher();
    await publisher.publishAsync(topic, "71.3", { qos: 1 });
    await waitUntil(() => received.length > 0, { timeoutMs: 5_000, describe: () => "no reading arrived over TLS" });
    expect(received.map((r) => [r.topic, r.payload.toString()])).toEqual([[topic, "71.3"]]);
  });

  it("is refused without a client certificate", async () => {
    const source = await startSource({ ca: await readFile(pki.ca) });
    await sleep(1_500); // a reconnect attempt or two: none may get in
    const status = source.status();
    expect(status.state).not.toBe("online");
    expect(status.connectedSince).toBeUndefined();
    expect(status.lastError).toMatch(/certificate required|handshake failure/);
  });

  it("is refused when its CA did not sign the broker's certificate", async () => {
    const source = await startSource({ ca: await readFile(pki.otherCa), cert: await readFile(pki.client.cert), key: await readFile(pki.client.key) });
    await sleep(1_500);
    const status = source.status();
    expect(status.state).not.toBe("online");
    expect(status.connectedSince).toBeUndefined();
    expect(status.lastError).toMatch(UNTRUSTED);
  });

  describe("the hub", () => {
    let testDb: TestDatabase | undefined;
    let hub: Hub | undefined;
    afterAll(async () => {
      await hub?.stop();
      await testDb?.drop();
    });

    it("ingests over TLS with the MQTT_* files in its configuration", async () => {
      testDb = await createTestDatabase("tls_hub");
      const enterprise = `tls-${suffix}`;
      const topic = `${oneMachinePath(enterprise, "press-1")}/temperature`;
      const plantFile = path.join(pki.dir, "plant.yaml");
      await writeFile(
        plantFile,
        oneMachinePlant(enterprise, "press-1", [{ name: "temperature" }]),
      );
      hub = await startHub({
        config: parseConfig({
          ...mqttEnv(broker.url),
          NODE_ENV: "test",
          DATABASE_URL: testDb.url,
          MQTT_CLIENT_ID: `tls-hub-${suffix}`,
          MQTT_SESSION_EXPIRY_SECONDS: "10",
          SIMULATOR: "false",
          PLANT_FILE: plantFile,
        }),
        roles: ["ingest"],
        log,
      });
      const publisher = await tlsPublisher();
      await publisher.publishAsync(topic, JSON.stringify({ value: 64.5, ts: Date.now() }), { qos: 1 });
      const stored = async () => (await testDb!.database.query<{ value: number }>("select value from telemetry")).rows;
      await waitUntil(async () => (await stored()).length > 0, { timeoutMs: 10_000, describe: () => "the reading was not stored" });
      expect((await stored()).map((r) => Number(r.value))).toEqual([64.5]);
    });
  });
});

describe("reading the TLS files", () => {
  it("names the variable and the path of a missing file, and of every bad file at once", async () => {
    const missing = path.join(pki.dir, "nope.crt");
    expect(await problemsOf(readMqttTls(parseConfig(mqttEnv("mqtts://broker:8883", { MQTT_CA_FILE: missing }))))).toEqual([
      `MQTT_CA_FILE: cannot read ${JSON.stringify(missing)} (no such file)`,
    ]);
    expect(
      await problemsOf(readMqttTls(parseConfig(mqttEnv("mqtts://broker:8883", { MQTT_CA_FILE: pki.dir, MQTT_CERT_FILE: pki.client.key })))),
    ).toEqual([
      `MQTT_CA_FILE: cannot read ${JSON.stringify(pki.dir)} (it is a directory)`,
      `MQTT_CERT_FILE: ${JSON.stringify(pki.client.key)} does not hold a PEM certificate`,
    ]);
  });

  it("rejects a key that does not belong to the certificate", async () => {
    const config = parseConfig({ HTTPS_CERT_FILE: pki.server.cert, HTTPS_KEY_FILE: pki.client.key });
    expect(await problemsOf(readHttpsCredentials(config))).toEqual([
      `HTTPS_KEY_FILE: ${JSON.stringify(pki.client.key)} is not the private key of the certificate in HTTPS_CERT_FILE`,
    ]);
  });

  it("refuses MQTT TLS files the connection would ignore", async () => {
    expect(await problemsOf(readMqttTls(parseConfig(mqttEnv("mqtt://broker:1883"))))).toEqual([
      "MQTT_URL: expected mqtts:// or wss:// since MQTT_CA_FILE is set; other schemes do not use TLS",
    ]);
    expect(await problemsOf(readMqttTls(parseConfig({ MQTT_CA_FILE: pki.ca })))).toEqual([
      "MQTT_CA_FILE: set, but MQTT_URL is not: the embedded demo broker speaks plain MQTT. Set MQTT_URL to your broker's mqtts:// address",
    ]);
    expect(await readMqttTls(parseConfig({ MQTT_URL: "mqtt://broker:1883" }))).toBeUndefined();
    expect(await readMqttTls(parseConfig({ MQTT_URL: "wss://broker/mqtt", MQTT_CA_FILE: pki.ca }))).toEqual({ ca: await readFile(pki.ca) });
  });
});

describe("HTTPS for the hub", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function listen(tls: Awaited<ReturnType<typeof readHttpsCredentials>>): Promise<{ server: http.Server; port: number }> {
    const server = createListener((_req, res) => res.end("hello over the listener"), tls);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { server, port: (server.address() as AddressInfo).port };
  }

  function get(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      https
        .get(url, { ca }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (body += chunk));
          res.on("end", () => resolve({ status: res.statusCode!, body }));
        })
        .on("error", reject);
    });
  }

  it("serves HTTPS with HTTPS_CERT_FILE and HTTPS_KEY_FILE, verified against the CA", async () => {
    const tls = await readHttpsCredentials(parseConfig({ HTTPS_CERT_FILE: pki.server.cert, HTTPS_KEY_FILE: pki.server.key }));
    const { port } = await listen(tls);
    const ca = await readFile(pki.ca);
    expect(await get(`https://127.0.0.1:${port}/graphql`, ca)).toEqual({ status: 200, body: "hello over the listener" });
    expect(await get(`https://localhost:${port}/graphql`, ca)).toEqual({ status: 200, body: "hello over the listener" });
    await expect(get(`https://127.0.0.1:${port}/graphql`, await readFile(pki.otherCa))).rejects.toThrow(UNTRUSTED);
    await expect(fetch(`http://127.0.0.1:${port}/graphql`)).rejects.toThrow();
  });

  it("carries WebSocket upgrades as wss://", async () => {
    const { server, port } = await listen(await readHttpsCredentials(parseConfig({ HTTPS_CERT_FILE: pki.server.cert, HTTPS_KEY_FILE: pki.server.key })));
    const wss = new WebSocketServer({ server, path: "/graphql" });
    wss.on("connection", (socket) => socket.on("message", (data) => socket.send(`echo ${String(data)}`)));
    try {
      const socket = new WebSocket(`wss://127.0.0.1:${port}/graphql`, { ca: await readFile(pki.ca) });
      const reply = await new Promise<string>((resolve, reject) => {
        socket.once("open", () => socket.send("ping"));
        socket.once("message", (data) => resolve(String(data)));
        socket.once("error", reject);
      });
      socket.close();
      expect(reply).toBe("echo ping");
    } finally {
      wss.close();
    }
  });

  it("is what the hub serves GraphQL and health on when HTTPS_* are set", async () => {
    const testDb = await createTestDatabase("https_hub");
    const config = parseConfig({
      NODE_ENV: "test",
      DATABASE_URL: testDb.url,
      PORT: "0",
      SIMULATOR: "false",
      LOG_LEVEL: "silent",
      HTTPS_CERT_FILE: pki.server.cert,
      HTTPS_KEY_FILE: pki.server.key,
    });
    const hub = await startHub({ config, roles: ["api"], log: createLogger("silent") });
    try {
      expect(hub.graphqlUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
      const health = await get(new URL("/healthz", hub.graphqlUrl).toString(), await readFile(pki.ca));
      expect(health).toEqual({ status: 200, body: '{"status":"ok"}' });
    } finally {
      await hub.stop();
      await testDb.drop();
    }
  });

  it("stays plain HTTP without a certificate", async () => {
    expect(await readHttpsCredentials(parseConfig({}))).toBeUndefined();
    const { port } = await listen(undefined);
    const response = await fetch(`http://127.0.0.1:${port}/graphql`);
    expect(await response.text()).toBe("hello over the listener");
  });
});

describe("PostgreSQL over TLS", () => {
  const url = "postgres://app:secret@db.internal:5432/plant?sslmode=verify-full&application_name=hub";

  it("passes DATABASE_CA_FILE to the pool, which a URL with sslmode would otherwise override", async () => {
    const ssl = await readDatabaseSsl(parseConfig({ DATABASE_URL: url, DATABASE_CA_FILE: pki.ca }));
    expect(ssl).toEqual({ ca: await readFile(pki.ca) });
    const config = postgresConnection(url, ssl);
    expect(config).toEqual({ connectionString: "postgres://app:secret@db.internal:5432/plant?application_name=hub", ssl: { ca: ssl!.ca, rejectUnauthorized: true } });
    // What pg itself makes of the options: the CA survives, and the rest of the URL still counts.
    const resolved = new pg.Client(config) as unknown as { connectionParameters: { ssl: unknown; host: string; application_name: string } };
    expect(resolved.connectionParameters).toMatchObject({ host: "db.internal", application_name: "hub", ssl: { ca: ssl!.ca, rejectUnauthorized: true } });
    // The trap: passed naively, the URL's sslmode replaces the ssl object and the CA is gone.
    const naive = new pg.Client({ connectionString: url, ssl: { ca: ssl!.ca, rejectUnauthorized: true } }) as unknown as typeof resolved;
    expect(naive.connectionParameters.ssl).not.toHaveProperty("ca");
    // Without a CA, the URL alone decides.
    expect(postgresConnection(url, undefined)).toEqual({ connectionString: url });
  });

  it("makes the pool demand TLS with that CA from the server", async () => {
    const probe = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await probe.connect();
    const sslOn = (await probe.query<{ ssl: string }>("show ssl")).rows[0]?.ssl === "on";
    await probe.end();

    const plain = await openDatabase({ url: TEST_POSTGRES_URL, dataDir: "unused", poolSize: 1 });
    await plain.ping();
    await plain.close();
    // The CA signed nothing the server has: with ssl off it cannot even start TLS, with ssl on it fails verification.
    const withCa = await openDatabase({ url: TEST_POSTGRES_URL, dataDir: "unused", poolSize: 1, ssl: { ca: await readFile(pki.ca) } });
    try {
      await expect(withCa.ping()).rejects.toThrow(sslOn ? /certificate/ : /does not support SSL/);
    } finally {
      await withCa.close();
    }
  });

  it("refuses a CA file the connection could not use", async () => {
    expect(await problemsOf(readDatabaseSsl(parseConfig({ DATABASE_CA_FILE: pki.ca })))).toEqual([
      "DATABASE_CA_FILE: set, but DATABASE_URL is not: the embedded database has no connection to protect",
    ]);
    expect(await problemsOf(readDatabaseSsl(parseConfig({ DATABASE_URL: "postgres://db.internal/plant?sslmode=disable", DATABASE_CA_FILE: pki.ca })))).toEqual([
      "DATABASE_URL: turns TLS off, but DATABASE_CA_FILE is set; drop one of the two",
    ]);
    expect(
      await problemsOf(readDatabaseSsl(parseConfig({ DATABASE_URL: `postgres://db.internal/plant?sslrootcert=${pki.ca}`, DATABASE_CA_FILE: pki.ca }))),
    ).toEqual(["DATABASE_URL: carries sslrootcert, which cannot be combined with DATABASE_CA_FILE; name the CA in one place"]);
    const missing = path.join(pki.dir, "db-ca.crt");
    expect(await problemsOf(readDatabaseSsl(parseConfig({ DATABASE_URL: url, DATABASE_CA_FILE: missing })))).toEqual([
      `DATABASE_CA_FILE: cannot read ${JSON.stringify(missing)} (no such file)`,
    ]);
  });
});
