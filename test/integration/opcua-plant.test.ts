import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { applyPlantText, PlantFileRejected } from "../../src/assets/plant-apply.js";
import type { Database } from "../../src/db/database.js";
import { createLogger } from "../../src/log/logger.js";
import { createPgliteDatabase } from "../support/database.js";
import { createEndpoint, endpointByName, endpointSettings, rotateEndpointSecrets } from "../../src/opcua/opcua-endpoint.service.js";
import { createSecretBox } from "../../src/secrets/secret-box.js";

/** OPC UA endpoints and bindings declared in a plant file, applied to an embedded database (the demo's). */
describe("OPC UA in the plant file", () => {
  const log = createLogger("silent");
  let database: Database;

  const plant = (temperature: Record<string, unknown>, endpoints: Record<string, unknown>[] = [{ name: "plc", url: "opc.tcp://10.0.0.5:4840" }]) =>
    stringify({
      enterprise: "acme",
      opcuaEndpoints: endpoints,
      sites: [{ name: "berlin", areas: [{ name: "moulding", lines: [{ name: "line-1", machines: [{ name: "press-1", dataPoints: [{ name: "temperature", ...temperature }] }] }] }] }],
    });
  const binding = async () => (await database.query<{ node_id: string | null; browse_path: string | null; queue_size: number; endpoint: string }>(
    "select b.node_id, b.browse_path, b.queue_size, e.name as endpoint from opcua_binding b join opcua_endpoint e on e.id = b.endpoint_id",
  )).rows;

  beforeAll(async () => {
    database = await createPgliteDatabase();
  });

  afterAll(async () => {
    await database?.close();
  });

  it("creates the endpoint and the binding, changes nothing when applied again, and follows the file", async () => {
    const file = plant({ opcua: { endpoint: "plc", nodeId: "nsu=urn:acme;s=T1", queueSize: 4 } });
    const first = await applyPlantText(database, file, "plant.yaml", log);
    expect(first.created).toBeGreaterThanOrEqual(7); // enterprise … data point, endpoint, binding
    expect(await binding()).toEqual([{ node_id: "nsu=urn:acme;s=T1", browse_path: null, queue_size: 4, endpoint: "plc" }]);
    const endpoint = (await database.query<{ security_mode: string; security_policy: string; version: number }>("select security_mode, security_policy, version from opcua_endpoint")).rows[0]!;
    expect(endpoint).toEqual({ security_mode: "SignAndEncrypt", security_policy: "Basic256Sha256", version: 1 });

    expect(await applyPlantText(database, file, "plant.yaml", log)).toMatchObject({ created: 0, updated: 0, deleted: 0 });

    await applyPlantText(database, plant({ opcua: { endpoint: "plc", browsePath: "/2:Press/2:T" } }), "plant.yaml", log);
    expect(await binding()).toEqual([{ node_id: null, browse_path: "/2:Press/2:T", queue_size: 1, endpoint: "plc" }]);
    // A point listed without opcua is no longer read over OPC UA; the endpoint stays.
    await applyPlantText(database, plant({}), "plant.yaml", log);
    expect(await binding()).toEqual([]);
    expect((await database.query("select 1 from opcua_endpoint")).rows).toHaveLength(1);
  });

  it("rejects a binding to an endpoint that exists nowhere, at its line, writing nothing", async () => {
    const file = plant({ opcua: { endpoint: "nowhere", nodeId: "i=2258" } }, []);
    const error = await applyPlantText(database, file, "plant.yaml", log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlantFileRejected);
    expect((error as PlantFileRejected).message).toMatch(/^plant\.yaml:\d+:\d+ sites\[0\]\.areas\[0\]\.lines\[0\]\.machines\[0\]\.dataPoints\[0\]\.opcua\.endpoint: no OPC UA endpoint "nowhere"/);
    expect(await binding()).toEqual([]);
  });

  it("rejects an OPC UA method on an endpoint that exists nowhere, at its line, writing nothing", async () => {
    const method = { name: "reset", transport: "opcua", endpoint: "nowhere", objectId: "nsu=urn:acme;s=Press", methodId: "nsu=urn:acme;s=Press/Reset" };
    const file = stringify({ enterprise: "acme", sites: [{ name: "berlin", areas: [{ name: "moulding", lines: [{ name: "line-1", machines: [{ name: "press-9", methods: [method] }] }] }] }] });
    const error = await applyPlantText(database, file, "plant.yaml", log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlantFileRejected);
    expect((error as PlantFileRejected).message).toMatch(/^plant\.yaml:\d+:\d+ sites\[0\]\.areas\[0\]\.lines\[0\]\.machines\[0\]\.methods\[0\]\.endpoint: no OPC UA endpoint "nowhere"/);
    expect((await database.query("select 1 from machine_method")).rows).toEqual([]);
    expect((await database.query("select 1 from machine where name = 'press-9'")).rows).toEqual([]);
  });

  it("re-seals endpoint passwords under a new key when secrets are rotated", async () => {
    const [k1, k2] = [randomBytes(32).toString("base64"), randomBytes(32).toString("base64")];
    const old = createSecretBox(`k1:${k1}`);
    const row = await createEndpoint(database.db, old, { name: "sealed", url: "opc.tcp://plc:4840", identity: "username", username: "hub" }, { password: "p4ss" }, { actor: "test" });
    expect(row.secretsKeyId).toBe("k1");
    const rotating = createSecretBox(`k2:${k2},k1:${k1}`);
    expect(await rotateEndpointSecrets(database.db, rotating)).toBe(1);
    expect(await rotateEndpointSecrets(database.db, rotating)).toBe(0);
    const rotated = (await endpointByName(database.db, "sealed"))!;
    expect(rotated.secretsKeyId).toBe("k2");
    // The old key can go: the new one alone opens it.
    expect(endpointSettings(createSecretBox(`k2:${k2}`), rotated).identity).toEqual({ kind: "username", username: "hub", password: "p4ss" });
  });
});
