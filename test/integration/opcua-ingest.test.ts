import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { Bus } from "../../src/bus/bus.js";
import { loadVariableNodeId, SIMULATOR_MAX_ITEMS_PER_SUBSCRIPTION, SIMULATOR_NAMESPACE, simulatorNodeId, type OpcuaSimulator } from "../../src/demo/opcua-simulator.js";
import { createLogger } from "../../src/log/logger.js";
import { setBinding } from "../../src/opcua/opcua-binding.service.js";
import { createEndpoint, getEndpoint, updateEndpoint, type EndpointRow } from "../../src/opcua/opcua-endpoint.service.js";
import { OpcuaManager } from "../../src/opcua/opcua.manager.js";
import { OpcuaOperationError } from "../../src/opcua/opcua.operations.js";
import { bindingSpec } from "../../src/opcua/opcua.rules.js";
import { describeCertificate, fetchServerCertificate, trustCertificate } from "../../src/opcua/opcua.trust.js";
import { createSecretBox } from "../../src/secrets/secret-box.js";
import { TelemetryWriter } from "../../src/telemetry/telemetry.writer.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { graphql } from "../support/graphql.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { parseConfig } from "../../src/config.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startHub, type Hub } from "../../src/hub.js";
import { waitUntil } from "../support/hub-process.js";
import { closedPort, startTestSimulator, temporaryPkiRoot } from "../support/opcua.js";
import { oneMachinePath, oneMachinePlant } from "../support/plant.js";

/**
 * The OPC UA source against real in-process node-opcua servers and a real PostgreSQL: a secure
 * session with a user name, an untrusted server refused, thousands of items over several
 * subscriptions, a server restart mid-stream, and bad bindings that fail alone.
 */
const LOAD_ITEMS = 5_000;

describe("OPC UA ingest", () => {
  const enterprise = `opcua-${randomBytes(3).toString("hex")}`;
  const machinePath = oneMachinePath(enterprise, "press-1");
  const log = createLogger(process.env.OPCUA_LOG ?? "silent");
  const secretsKeys = `k1:${randomBytes(32).toString("base64")}`;
  const box = createSecretBox(secretsKeys);
  let api: Hub;
  let adminKey: string;
  let testDb: TestDatabase;
  let pkiRoot: Awaited<ReturnType<typeof temporaryPkiRoot>>;
  let secure: OpcuaSimulator;
  let untrusted: OpcuaSimulator;
  let writer: TelemetryWriter;
  let manager: OpcuaManager;
  const endpoints: Record<"secure" | "x509" | "untrusted" | "unreachable", EndpointRow> = {} as never;
  const points: Record<string, number> = {};
  const hubPki = () => path.join(pkiRoot.dir, "hub");

  const query = async <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => (await testDb.database.query<T>(text, params)).rows;
  const count = async (dataPointIds: number[]) =>
    (await query<{ n: number }>("select count(*)::int as n from telemetry where data_point_id = any($1::int[]) and quality = 0", [dataPointIds]))[0]!.n;
  const bindingError = async (dataPointId: number) => (await query<{ last_error: string | null }>("select last_error from opcua_binding where data_point_id = $1", [dataPointId]))[0]?.last_error;

  const until = (probe: () => Promise<boolean>, timeoutMs: number) =>
    waitUntil(probe, { timeoutMs, intervalMs: 200, describe: () => `sources: ${JSON.stringify(manager.status())}` });

  beforeAll(async () => {
    testDb = await createTestDatabase("opcua_ingest");
    pkiRoot = await temporaryPkiRoot();
    const machine = { path: machinePath, profile: "press" as const };
    [secure, untrusted] = await Promise.all([
      startTestSimulator(pkiRoot.dir, "secure", { machines: [machine], users: { operator: "s3cret!" }, loadVariables: LOAD_ITEMS, intervalMs: 500, log }),
      startTestSimulator(pkiRoot.dir, "untrusted", { machines: [machine], log }),
    ]);
    await trustCertificate(hubPki(), secure.certificate());

    await applyPlantText(
      testDb.database,
      oneMachinePlant(enterprise, "press-1", [
        { name: "temperature" },
        { name: "parts", dataType: "integer" },
        { name: "state", dataType: "integer" },
        { name: "speed" },
        { name: "ghost" },
        { name: "elsewhere" },
        { name: "refused" },
        { name: "deadbanded" },
        { name: "via-x509" },
      ]),
      "plant.yaml",
      log,
    );
    // Thousands of points and bindings in one statement each: the plant file would take a query per point.
    await query("insert into data_point (machine_id, name) select machine_id, 'load-' || g from data_point, generate_series(0, $1::int - 1) g where name = 'temperature'", [LOAD_ITEMS]);
    for (const row of await query<{ id: number; name: string }>("select id, name from data_point")) points[row.name] = row.id;

    const by = { actor: "test" };
    const db = testDb.database.db;
    endpoints.secure = await createEndpoint(db, box, { name: "secure", url: secure.endpointUrl, securityMode: "SignAndEncrypt", securityPolicy: "Basic256Sha256", identity: "username", username: "operator", maxItemsPerSubscription: 100_000, publishingIntervalMs: 250 }, { password: "s3cret!" }, by);
    const user = await x509User(pkiRoot.dir);
    endpoints.x509 = await createEndpoint(db, box, { name: "x509", url: secure.endpointUrl, securityMode: "SignAndEncrypt", securityPolicy: "Aes256_Sha256_RsaPss", identity: "x509" }, user, by);
    endpoints.untrusted = await createEndpoint(db, box, { name: "untrusted", url: untrusted.endpointUrl, securityMode: "SignAndEncrypt", securityPolicy: "Aes128_Sha256_RsaOaep" }, {}, by);
    endpoints.unreachable = await createEndpoint(db, box, { name: "unreachable", url: `opc.tcp://127.0.0.1:${await closedPort()}`, securityMode: "None" }, {}, by);
    const bind = (point: string, endpoint: EndpointRow, spec: Record<string, unknown>) => setBinding(db, points[point]!, endpoint.id, bindingSpec.parse({ endpoint: endpoint.name, samplingIntervalMs: 250, ...spec }), { actor: "test" });
    await bind("temperature", endpoints.secure, { nodeId: simulatorNodeId(machinePath, "Temperature") });
    await bind("parts", endpoints.secure, { nodeId: simulatorNodeId(machinePath, "PartCounter") });
    await bind("state", endpoints.secure, { nodeId: simulatorNodeId(machinePath, "State") });
    await bind("speed", endpoints.secure, { browsePath: "/2:Machines/2:press-1.2:Speed" });
    await bind("ghost", endpoints.secure, { nodeId: `nsu=${SIMULATOR_NAMESPACE};s=no/such/node` });
    await bind("elsewhere", endpoints.unreachable, { nodeId: "ns=1;s=x" });
    await bind("via-x509", endpoints.x509, { nodeId: simulatorNodeId(machinePath, "Speed") });
    await bind("refused", endpoints.untrusted, { nodeId: simulatorNodeId(machinePath, "Temperature") });
    // load/0 climbs by 1 every tick: an absolute deadband of 3.5 lets every fourth change through.
    await bind("deadbanded", endpoints.secure, { nodeId: loadVariableNodeId(0), samplingIntervalMs: 500, deadband: { type: "absolute", value: 3.5 } });
    await query(
      "insert into opcua_binding (data_point_id, endpoint_id, node_id, sampling_interval_ms) select id, $1, replace($2, '#', substr(name, 6)), 500 from data_point where name like 'load-%'",
      [endpoints.secure.id, loadVariableNodeId("#")],
    );

    writer = new TelemetryWriter(testDb.database, new Bus(log), log, { batchMax: 10_000, flushMs: 20 });
    manager = new OpcuaManager({ database: testDb.database, writer, box, pkiDir: hubPki(), backoff: { initialMs: 200, maxMs: 1_000 }, log });
    await manager.start();

    // An api-only hub on the same database: GraphQL reads what the ingest side recorded, and browses on its own sessions.
    const config = parseConfig({ NODE_ENV: "test", DATABASE_URL: testDb.url, SECRETS_KEYS: secretsKeys, OPCUA_PKI_DIR: hubPki(), PORT: "0", SIMULATOR: "false", LOG_LEVEL: "silent" });
    api = await startHub({ config, roles: ["api"], log });
    adminKey = (await createApiKey(testDb.database.db, { name: "opcua-admin", role: "admin", sites: null, createdBy: "test" })).key;
  });

  afterAll(async () => {
    await api?.stop();
    await manager?.stop();
    await writer?.close();
    await Promise.all([secure?.stop(), untrusted?.stop()]);
    await testDb?.drop();
    await pkiRoot?.remove();
  });

  it("reads over SignAndEncrypt with a user name, keeping the source timestamps", async () => {
    await until(async () => (await count([points.temperature!, points.parts!, points.state!, points.speed!])) >= 8, 15_000);
    const rows = await query<{ ts: Date; value: number }>("select ts, value from telemetry where data_point_id = $1 order by ts", [points.temperature]);
    // Source timestamps come from the server's sampling, not from our clock at the insert.
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.ts.getTime())).size).toBe(rows.length);
    expect((await getEndpoint(testDb.database.db, endpoints.secure.id))!.connectedAt).not.toBeNull();
    const status = manager.status().find((s) => s.endpoint === "secure")!;
    expect(status.state).toBe("online");
  });

  it("reads with an X.509 user certificate over Aes256_Sha256_RsaPss", async () => {
    await until(async () => (await count([points["via-x509"]!])) > 0, 15_000);
    expect((await getEndpoint(testDb.database.db, endpoints.x509.id))!.lastError).toBeNull();
  });

  it("spreads 5,000 monitored items over subscriptions within the server's advertised limit and reads them all", async () => {
    const status = manager.status().find((s) => s.endpoint === "secure")!;
    // The endpoint allows 100,000 per subscription; the server advertises fewer, and that wins.
    // The load, four machine variables and the deadbanded one resolve; the ghost is refused by the server.
    expect(status.subscriptions).toBe(Math.ceil((LOAD_ITEMS + 6) / SIMULATOR_MAX_ITEMS_PER_SUBSCRIPTION));
    expect(status.items.active).toBe(LOAD_ITEMS + 5);
    const loadIds = Array.from({ length: LOAD_ITEMS }, (_, i) => points[`load-${i}`]!);
    await until(async () => (await query<{ n: number }>("select count(distinct data_point_id)::int as n from telemetry where data_point_id = any($1::int[])", [loadIds]))[0]!.n === LOAD_ITEMS, 20_000);
  });

  it("applies a data point's deadband on the server", async () => {
    const [plain, deadbanded] = [points["load-0"]!, points.deadbanded!];
    await until(async () => (await count([plain])) >= 12, 15_000);
    const [all, filtered] = [await count([plain]), await count([deadbanded])];
    expect(filtered).toBeGreaterThan(0);
    expect(filtered).toBeLessThanOrEqual(Math.ceil(all / 4) + 1);
  });

  it("gives a bad NodeId a clear error on its data point while the others flow", async () => {
    await until(async () => (await bindingError(points.ghost!)) != null, 10_000);
    expect(await bindingError(points.ghost!)).toMatch(/BadNodeIdUnknown/);
    expect(await bindingError(points.temperature!)).toBeNull();
    expect(await count([points.ghost!])).toBe(0);

    // Fixed while running: the source resubscribes with the new item (no gap), the error clears.
    await setBinding(testDb.database.db, points.ghost!, endpoints.secure.id, bindingSpec.parse({ endpoint: "secure", nodeId: simulatorNodeId(machinePath, "Temperature"), samplingIntervalMs: 250 }), { actor: "test" });
    await manager.reloadBindings();
    await until(async () => (await count([points.ghost!])) > 0, 15_000);
    expect(await bindingError(points.ghost!)).toBeNull();
    expect(await query("select 1 from data_gap where endpoint_id = $1", [endpoints.secure.id])).toHaveLength(0);
  });

  it("refuses an untrusted server certificate, says how to trust it, and connects once it is trusted", async () => {
    await until(async () => (await getEndpoint(testDb.database.db, endpoints.untrusted.id))!.lastError !== null, 15_000);
    const row = (await getEndpoint(testDb.database.db, endpoints.untrusted.id))!;
    expect(row.lastError).toMatch(/not trusted.*plantgraph opcua trust untrusted/);
    expect(row.connectedAt).toBeNull();
    expect(await count([points.refused!])).toBe(0);
    // Kept for an operator to inspect, never accepted by itself.
    expect(await readdir(path.join(hubPki(), "rejected"))).not.toHaveLength(0);

    // What `plantgraph opcua trust untrusted` does, from another process's PKI handle: the running source picks it up.
    const certificate = await fetchServerCertificate(untrusted.endpointUrl);
    expect(describeCertificate(certificate).thumbprint).toBe(describeCertificate(untrusted.certificate()).thumbprint);
    await trustCertificate(hubPki(), certificate);
    await until(async () => (await count([points.refused!])) > 0, 15_000);
  });

  it("reports an unreachable endpoint on the endpoint and records the gap, without stopping the others", async () => {
    await until(async () => (await getEndpoint(testDb.database.db, endpoints.unreachable.id))!.lastError !== null, 15_000);
    expect((await getEndpoint(testDb.database.db, endpoints.unreachable.id))!.lastError).toMatch(/cannot connect/);
    const gaps = await query<{ ended_at: Date | null }>("select ended_at from data_gap where endpoint_id = $1", [endpoints.unreachable.id]);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.ended_at).toBeNull();
    expect(manager.status().find((s) => s.endpoint === "secure")!.state).toBe("online");

    // Disabled, it is no longer tried.
    await updateEndpoint(testDb.database.db, box, endpoints.unreachable.id, { enabled: false }, undefined, { actor: "test" });
    await manager.reloadBindings();
    expect(manager.status().map((s) => s.endpoint)).not.toContain("unreachable");
  });

  it("writes a setpoint with its DataType, reads it back and calls the reset method", async () => {
    const { operations } = manager;
    const setpoint = simulatorNodeId(machinePath, "SpeedSetpoint");
    await operations.write(endpoints.secure.id, setpoint, 42.5);
    expect(secure.machine(machinePath)!.speedSetpoint).toBe(42.5);
    expect((await operations.read(endpoints.secure.id, setpoint)).value).toBe(42.5);
    await expect(operations.write(endpoints.secure.id, setpoint, "fast")).rejects.toMatchObject({ kind: "bad_input" });
    await expect(operations.write(endpoints.secure.id, setpoint, -1)).rejects.toMatchObject({ kind: "rejected", message: expect.stringMatching(/BadOutOfRange/) });
    await expect(operations.read(endpoints.secure.id, `nsu=${SIMULATOR_NAMESPACE};s=nothing`)).rejects.toBeInstanceOf(OpcuaOperationError);

    expect(secure.machine(machinePath)!.parts).toBeGreaterThan(0);
    await operations.call(endpoints.secure.id, `nsu=${SIMULATOR_NAMESPACE};s=${machinePath}`, simulatorNodeId(machinePath, "ResetCounter"), []);
    expect(secure.machine(machinePath)!.parts).toBeLessThan(5);
    await expect(operations.call(endpoints.secure.id, `nsu=${SIMULATOR_NAMESPACE};s=${machinePath}`, simulatorNodeId(machinePath, "ResetCounter"), [1])).rejects.toMatchObject({ kind: "bad_input" });
  });

  it("browses the server's nodes with their namespace URIs", async () => {
    const machines = await manager.operations.browse(endpoints.secure.id);
    const folder = machines.find((n) => n.browseName === "2:Machines");
    expect(folder?.nodeId).toMatch(/^nsu=urn:plantgraph:opcua-simulator;/);
    const [machine] = await manager.operations.browse(endpoints.secure.id, folder!.nodeId);
    const variables = await manager.operations.browse(endpoints.secure.id, machine!.nodeId);
    expect(variables.find((v) => v.displayName === "Temperature")).toMatchObject({ nodeClass: "Variable", dataType: "Double", nodeId: simulatorNodeId(machinePath, "Temperature") });
  });

  it("resumes by itself after the server restarts, records the gap and duplicates nothing", async () => {
    const ids = [points.temperature!, points.parts!];
    const port = secure.port;
    await secure.stop();
    const stoppedAt = Date.now();
    await until(async () => (await query("select 1 from data_gap where endpoint_id = $1", [endpoints.secure.id])).length === 1, 10_000);
    secure = await startTestSimulator(pkiRoot.dir, "secure", { machines: [{ path: machinePath, profile: "press" }], users: { operator: "s3cret!" }, loadVariables: 10, intervalMs: 500, port, log });
    const before = await count(ids);
    await until(async () => (await count(ids)) > before + 2, 20_000);
    await until(async () => (await query("select 1 from data_gap where endpoint_id = $1 and ended_at is not null", [endpoints.secure.id])).length === 1, 5_000);

    const [gap] = await query<{ started_at: Date; ended_at: Date | null; reason: string }>("select started_at, ended_at, reason from data_gap where endpoint_id = $1", [endpoints.secure.id]);
    expect(gap!.ended_at).not.toBeNull();
    expect(gap!.started_at.getTime()).toBeGreaterThanOrEqual(stoppedAt - 1_000);
    expect(gap!.ended_at!.getTime()).toBeGreaterThan(gap!.started_at.getTime());
    // The latest values were marked bad when the connection went.
    expect((await query("select 1 from telemetry where data_point_id = $1 and quality = 2", [points.temperature])).length).toBe(1);
    // The source dropped every value it had delivered already; the table never saw a duplicate.
    await writer.flush();
    expect(writer.stats.duplicates).toBe(0);
    expect(manager.status().find((s) => s.endpoint === "secure")!.reconnects).toBeGreaterThan(0);
  });

  it("shows endpoints with their health and gaps, and data points with their binding and error, over GraphQL", async () => {
    const ask = (query: string, variables: Record<string, unknown> = {}) => graphql(api.graphqlUrl!, query, variables, adminKey);
    const { data } = await ask(`{ opcuaEndpoints { name secretKeys connectedAt lastError securityMode identity gaps { startedAt endedAt reason } } }`);
    const byName = Object.fromEntries((data!.opcuaEndpoints as { name: string }[]).map((e) => [e.name, e])) as Record<string, any>;
    expect(byName.secure).toMatchObject({ secretKeys: ["password"], securityMode: "SIGN_AND_ENCRYPT", identity: "USERNAME", lastError: null });
    expect(byName.secure.gaps).toHaveLength(1);
    expect(byName.secure.gaps[0].endedAt).not.toBeNull();
    expect(byName.unreachable.gaps[0]).toMatchObject({ endedAt: null, reason: expect.stringMatching(/cannot connect/) });

    const point = (name: string) => ask(`query($id: ID!) { node(id: $id) { ... on DataPoint { opcua { nodeId browsePath error } gaps { endedAt } } } }`, { id: globalId("DataPoint", points[name]!) });
    // The restarted server has fewer load variables: the missing ones are refused, on their data points.
    expect((await point(`load-${LOAD_ITEMS - 1}`)).data!.node.opcua.error).toMatch(/^BadNodeIdUnknown/);
    expect((await point("speed")).data!.node).toMatchObject({ opcua: { nodeId: null, browsePath: "/2:Machines/2:press-1.2:Speed", error: null }, gaps: [{ endedAt: expect.any(String) }] });
  });

  it("keeps passwords sealed and refuses an identity without its secrets over GraphQL", async () => {
    const create = `mutation($input: CreateOpcuaEndpointInput!) { createOpcuaEndpoint(input: $input) { endpoint { name secretKeys securityPolicy } errors { field message } } }`;
    const input = { name: "line-2", url: "opc.tcp://127.0.0.1:1", identity: "USERNAME", username: "hub" };
    const refused = await graphql(api.graphqlUrl!, create, { input }, adminKey);
    expect(refused.data!.createOpcuaEndpoint.errors).toEqual([{ field: ["input", "secrets"], message: expect.stringMatching(/needs the secrets password/) }]);
    const created = await graphql(api.graphqlUrl!, create, { input: { ...input, secrets: { password: "open sesame" } } }, adminKey);
    expect(created.data!.createOpcuaEndpoint).toEqual({ endpoint: { name: "line-2", secretKeys: ["password"], securityPolicy: "BASIC256_SHA256" }, errors: [] });
    const [row] = await query<{ secrets_ciphertext: string }>("select secrets_ciphertext from opcua_endpoint where name = 'line-2'");
    expect(row!.secrets_ciphertext).not.toContain("open sesame");
  });

  it("browses a server over GraphQL from a process that does not run the endpoint", async () => {
    const browse = `query($id: ID!, $node: String) { browse(endpointId: $id, nodeId: $node) { nodes { nodeId browseName nodeClass } errors { field message } } }`;
    const { data } = await graphql(api.graphqlUrl!, browse, { id: String(endpoints.secure.id) }, adminKey);
    expect(data!.browse.errors).toEqual([]);
    expect(data!.browse.nodes).toContainEqual({ nodeId: expect.stringMatching(/^nsu=urn:plantgraph:opcua-simulator;/), browseName: "2:Machines", nodeClass: "Object" });
    const missing = await graphql(api.graphqlUrl!, browse, { id: String(endpoints.unreachable.id) }, adminKey);
    expect(missing.data!.browse.errors).toEqual([{ field: ["endpointId"], message: expect.stringMatching(/cannot connect/) }]);
  });
});

/** A throwaway RSA user certificate and key (PEM) made with the machine's openssl. */
async function x509User(dir: string): Promise<{ certificate: string; privateKey: string }> {
  const [keyFile, certFile] = [path.join(dir, "user.key"), path.join(dir, "user.crt")];
  // node-opcua's PKI code leaves OPENSSL_CONF set to "undefined" in this process.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "OPENSSL_CONF"));
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=plantgraph-user"];
  await promisify(execFile)(process.env.OPENSSL_BIN ?? "openssl", args, { env });
  return { certificate: await readFile(certFile, "utf8"), privateKey: await readFile(keyFile, "utf8") };
}
