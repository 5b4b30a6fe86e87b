import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../src/audit/bundle.verify.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { parseConfig } from "../../src/config.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createIntegration } from "../../src/integrations/integration.service.js";
import { createLogger } from "../../src/log/logger.js";
import { raiseTestAlarm, seedRule, seedTask } from "../support/alarms.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { firstResults, graphql, wsClient } from "../support/graphql.js";
import { sealerPath, sealerPerSitePlant } from "../support/plant.js";
import { TEST_REDIS_URL } from "../support/services.js";

/**
 * Traceability over the real GraphQL server: lots started and ended on machines, consumed into
 * each other, traced three levels BACKWARD and FORWARD, with the lot record (parameters, events
 * and their tasks, quality results, operators), loops refused, site scope, traceUpdated, audit,
 * a lot released by electronic signature, and a lot's record exported as a bundle verified offline.
 *
 * Genealogy:  resin ─▶ film ─▶ pouch ─▶ carton ─▶ pallet      (berlin)
 *                       ink ─┘        paris-label ─┘          (paris: outside the keys' scope)
 */

const enterprise = `lt${randomBytes(3).toString("hex")}`;
const plant = sealerPerSitePlant(enterprise, ["berlin", "paris"]);

const LOT = `lot { id code status startedBy endedBy onHold holdReason }`;
const START = `mutation($input: StartLotInput!) { startLot(input: $input) { ${LOT} errors { field message } } }`;
const CONSUME = `mutation($input: AddLotComponentInput!) { addLotComponent(input: $input) { ${LOT} errors { field message } } }`;
const TRACE = `query($id: ID!, $d: TraceDirection!) { trace(lotId: $id, direction: $d) { direction lots { depth lot { code } } links { lotId parentLotId quantity } } }`;

describe("lots and traces over GraphQL", () => {
  let testDb: TestDatabase;
  let hub: Hub;
  let endpoint: string;
  const keys = {} as Record<"operator" | "engineer" | "auditor" | "admin", string>;
  const identities = {} as Record<keyof typeof keys, string>;
  const machines = {} as Record<"berlin" | "paris", number>;
  const lots = {} as Record<string, string>;
  let dataDir: string;

  async function data(key: keyof typeof keys, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const result = await graphql(endpoint, query, variables, keys[key]);
    expect(result.errors).toBeUndefined();
    return result.data!;
  }

  async function start(code: string, site: "berlin" | "paris", startedAt?: Date): Promise<string> {
    const { startLot } = await data(site === "berlin" ? "operator" : "admin", START, {
      input: { machineId: globalId("Machine", machines[site]), code, product: code.split("-")[0], startedAt: startedAt?.toISOString() },
    });
    expect(startLot.errors).toEqual([]);
    lots[code] = startLot.lot.id;
    return startLot.lot.id;
  }

  async function consume(lot: string, parent: string, quantity: number): Promise<Record<string, any>> {
    const key = lot.startsWith("paris") || parent.startsWith("paris") ? "admin" : "operator";
    return (await data(key, CONSUME, { input: { lotId: lots[lot], parentLotId: lots[parent], quantity, unit: "kg" } })).addLotComponent;
  }

  const traceOf = async (code: string, direction: "BACKWARD" | "FORWARD", key: keyof typeof keys = "auditor") =>
    (await data(key, TRACE, { id: lots[code], d: direction })).trace;

  beforeAll(async () => {
    testDb = await createTestDatabase("lot_trace");
    dataDir = await mkdtemp(path.join(tmpdir(), "plantgraph-lots-"));
    const log = createLogger("silent");
    await applyPlantText(testDb.database, plant, "lots.yaml", log);
    for (const site of ["berlin", "paris"] as const) machines[site] = (await machineByPath(testDb.database.db, sealerPath(enterprise, site)))!.id;
    for (const role of ["operator", "engineer", "auditor", "admin"] as const) {
      const { key, row } = await createApiKey(testDb.database.db, { name: role, role, sites: role === "admin" ? null : [`${enterprise}/berlin`], createdBy: "test" });
      keys[role] = key;
      identities[role] = `key:${row.id}`;
    }
    const config = parseConfig({
      NODE_ENV: "test",
      DATABASE_URL: testDb.url,
      DATA_DIR: dataDir,
      REDIS_URL: TEST_REDIS_URL,
      JOBS_PREFIX: `lots${randomBytes(3).toString("hex")}`,
      PORT: "0",
      SIMULATOR: "false",
      LOG_LEVEL: "silent",
      RATE_LIMIT_PER_MINUTE: "100000",
    });
    hub = await startHub({ config, roles: ["api"], log });
    endpoint = hub.graphqlUrl!;

    for (const code of ["resin-1", "ink-1", "film-1", "carton-1", "pallet-1"]) await start(code, "berlin");
    await start("paris-label-1", "paris");
  });

  afterAll(async () => {
    await hub?.stop();
    await testDb?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("records the lot of a machine with its parameters, events and their tasks, quality results and operators", async () => {
    const startedAt = new Date(Date.now() - 10 * 60_000);
    const pouch = await start("pouch-1", "berlin", startedAt);
    const point = (await testDb.database.query<{ id: number }>(`select id from data_point where machine_id = $1 and name = 'temperature'`, [machines.berlin])).rows[0]!.id;
    // Five readings inside the window, one before it.
    const readings = [[-11, 50], [-9, 70], [-7, 72], [-5, 74], [-3, 78], [-1, 76]].map(([min, v]) => [new Date(Date.now() + min! * 60_000).toISOString(), v]);
    for (const [ts, value] of readings) await testDb.database.query(`insert into telemetry (data_point_id, ts, value) values ($1, $2, $3)`, [point, ts, value]);
    const rule = await seedRule(testDb.database.db, machines.berlin, "temperature");
    const { alarm } = await raiseTestAlarm(testDb.database.db, rule);
    const board = await createIntegration(testDb.database.db, undefined, { kind: "builtin", name: "board" }, { actor: "test" });
    const task = await seedTask(testDb.database.db, { integrationId: board.id, machineId: machines.berlin, alarmId: alarm.id, title: "check the sealer" });

    const quality = await data("operator", `mutation($input: RecordQualityResultInput!) { recordQualityResult(input: $input) { lot { id } errors { message } } }`, {
      input: { lotId: pouch, characteristic: "seal strength", value: 12.5, unit: "N", passed: true },
    });
    expect(quality.recordQualityResult.errors).toEqual([]);
    const held = await data("engineer", `mutation($input: SetLotHoldInput!) { setLotHold(input: $input) { ${LOT} errors { message } } }`, {
      input: { id: pouch, onHold: true, reason: "customer complaint" },
    });
    expect(held.setLotHold.lot).toMatchObject({ onHold: true, holdReason: "customer complaint" });
    const ended = await data("operator", `mutation($input: EndLotInput!) { endLot(input: $input) { ${LOT} errors { message } } }`, { input: { id: pouch, quantity: 1200, unit: "pcs" } });
    expect(ended.endLot.lot).toMatchObject({ status: "ENDED", endedBy: identities.operator });

    const { lot } = await data(
      "auditor",
      `query($id: ID!) { lot(id: $id) {
        code status machine { path } startedBy endedBy quantity unit onHold
        parameters { dataPoint count min max avg first last }
        events { kind message alarm { id } tasks { title } }
        qualityResults { characteristic value unit passed recordedBy }
        operators { identity did }
      } }`,
      { id: pouch },
    );
    expect(lot).toMatchObject({ code: "pouch-1", status: "ENDED", machine: { path: sealerPath(enterprise, "berlin") }, quantity: 1200, unit: "pcs", onHold: true });
    expect(lot.parameters).toEqual([{ dataPoint: "temperature", count: 5, min: 70, max: 78, avg: 74, first: 70, last: 76 }]);
    expect(lot.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "alarm.raised", alarm: { id: String(alarm.id) }, tasks: [] }),
        expect.objectContaining({ kind: "alarm.raised", alarm: { id: String(alarm.id) }, tasks: [{ title: task.title }] }),
      ]),
    );
    expect(lot.qualityResults).toEqual([{ characteristic: "seal strength", value: 12.5, unit: "N", passed: true, recordedBy: identities.operator }]);
    expect(lot.operators).toEqual(
      expect.arrayContaining([
        { identity: identities.operator, did: ["started", "ended", "quality"] },
        { identity: identities.engineer, did: ["hold"] },
      ]),
    );
  });

  it("traces a lot backward and forward through three levels", async () => {
    await consume("film-1", "resin-1", 50);
    await consume("pouch-1", "film-1", 20);
    await consume("pouch-1", "ink-1", 2);
    await consume("carton-1", "pouch-1", 1200);
    await consume("pallet-1", "carton-1", 40);

    const backward = await traceOf("carton-1", "BACKWARD");
    expect(backward.lots).toEqual([
      { depth: 0, lot: { code: "carton-1" } },
      { depth: 1, lot: { code: "pouch-1" } },
      { depth: 2, lot: { code: "ink-1" } },
      { depth: 2, lot: { code: "film-1" } },
      { depth: 3, lot: { code: "resin-1" } },
    ].sort((a, b) => a.depth - b.depth || Number(lots[a.lot.code]) - Number(lots[b.lot.code])));
    expect(backward.links).toHaveLength(4);
    expect(backward.links).toContainEqual({ lotId: lots["film-1"], parentLotId: lots["resin-1"], quantity: 50 });

    const forward = await traceOf("resin-1", "FORWARD");
    expect(forward.lots.map((l: any) => [l.depth, l.lot.code])).toEqual([
      [0, "resin-1"],
      [1, "film-1"],
      [2, "pouch-1"],
      [3, "carton-1"],
      [4, "pallet-1"],
    ]);
    expect(forward.links.map((l: any) => l.lotId)).toEqual([lots["film-1"], lots["pouch-1"], lots["carton-1"], lots["pallet-1"]]);
  });

  it("refuses a component that would make the genealogy a loop, or one recorded twice", async () => {
    const loop = await consume("resin-1", "pallet-1", 1);
    expect(loop.errors).toEqual([{ field: ["input", "parentLotId"], message: expect.stringMatching(/loop/) }]);
    const twice = await consume("film-1", "resin-1", 5);
    expect(twice.errors).toEqual([{ field: ["input", "parentLotId"], message: expect.stringMatching(/already/) }]);
    const duplicate = await graphql(endpoint, START, { input: { machineId: globalId("Machine", machines.berlin), code: "resin-1" } }, keys.operator);
    expect(duplicate.data?.startLot.errors).toEqual([{ field: ["input", "code"], message: 'a lot with code "resin-1" exists already' }]);
  });

  it("leaves lots of other sites out of a trace, and hides them by id", async () => {
    await consume("carton-1", "paris-label-1", 40);
    const all = await traceOf("carton-1", "BACKWARD", "admin");
    expect(all.lots.map((l: any) => l.lot.code)).toContain("paris-label-1");
    const scoped = await traceOf("carton-1", "BACKWARD", "auditor");
    expect(scoped.lots.map((l: any) => l.lot.code)).not.toContain("paris-label-1");
    expect(scoped.links.map((l: any) => l.parentLotId)).not.toContain(lots["paris-label-1"]);
    expect((await data("auditor", `query($id: ID!) { lot(id: $id) { code } }`, { id: lots["paris-label-1"] })).lot).toBeNull();
    expect((await data("auditor", TRACE, { id: lots["paris-label-1"], d: "FORWARD" })).trace).toBeNull();
  });

  it("tells traceUpdated subscribers when any lot of the genealogy changes", async () => {
    const client = wsClient(endpoint, { authorization: `Bearer ${keys.auditor}` });
    try {
      const results = firstResults(client, `subscription($id: ID) { traceUpdated(lotId: $id) { code } }`, 1, { id: lots["resin-1"] });
      // The subscription is set up asynchronously: keep changing a descendant until it is heard.
      let heard = false;
      void results.then(() => (heard = true));
      for (let i = 0; i < 50 && !heard; i++) {
        await data("operator", `mutation($input: RecordQualityResultInput!) { recordQualityResult(input: $input) { errors { message } } }`, {
          input: { lotId: lots["pallet-1"], characteristic: "weight", value: 500 + i, unit: "kg", passed: true },
        });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await results).toEqual([{ data: { traceUpdated: { code: "resin-1" } } }]);
    } finally {
      await client.dispose();
    }
  });

  it("audits every change of a lot", async () => {
    const { rows } = await testDb.database.query<{ action: string; actor: string }>(
      `select action, actor from audit_entry where entity_type = 'lot' and entity_id = $1 order by id`,
      [lots["pouch-1"]],
    );
    expect(rows.map((r) => r.action)).toEqual(["lot.started", "lot.quality_recorded", "lot.hold_changed", "lot.ended", "lot.component_added", "lot.component_added"]);
    expect(rows[2]!.actor).toBe(identities.engineer);
  });

  it("releases a lot by electronic signature bound to its record: a later quality result shows the signature invalid", async () => {
    const SIGNATURES = `query($id: ID!) { lot(id: $id) { signatures { meaning signerId valid problem } } }`;
    const { signRecord } = await data("engineer", `mutation($input: SignRecordInput!) { signRecord(input: $input) { signature { recordType meaning valid } errors { field message } } }`, {
      input: { recordType: "LOT", recordId: lots["carton-1"], meaning: "RELEASED", credential: keys.engineer, reason: "batch record reviewed" },
    });
    expect(signRecord).toEqual({ signature: { recordType: "LOT", meaning: "RELEASED", valid: true }, errors: [] });
    expect((await data("auditor", SIGNATURES, { id: lots["carton-1"] })).lot.signatures).toEqual([{ meaning: "RELEASED", signerId: identities.engineer, valid: true, problem: null }]);

    // Using the released lot elsewhere is not a change of its record.
    await start("crate-1", "berlin");
    expect((await consume("crate-1", "carton-1", 5)).errors).toEqual([]);
    expect((await data("auditor", SIGNATURES, { id: lots["carton-1"] })).lot.signatures[0].valid).toBe(true);

    await data("operator", `mutation($input: RecordQualityResultInput!) { recordQualityResult(input: $input) { errors { message } } }`, {
      input: { lotId: lots["carton-1"], characteristic: "drop test", passed: false },
    });
    expect((await data("auditor", SIGNATURES, { id: lots["carton-1"] })).lot.signatures).toEqual([
      { meaning: "RELEASED", signerId: identities.engineer, valid: false, problem: expect.stringMatching(/changed after it was signed/) },
    ]);
    // An operator may not read signatures.
    const denied = await graphql(endpoint, SIGNATURES, { id: lots["carton-1"] }, keys.operator);
    expect(denied.errors?.[0]?.message).toMatch(/may not (signature.read|audit.export)/);
  });

  it("exports a lot's record traced through three levels as a bundle that verifies offline, and refuses one changed byte", async () => {
    const EXPORT = `mutation($id: ID!) { exportLotRecord(lotId: $id) { export { directory lots auditRecords manifestSha256 } errors { field message } } }`;
    const denied = await graphql(endpoint, EXPORT, { id: lots["carton-1"] }, keys.operator);
    expect(denied.errors?.[0]?.message).toMatch(/may not (signature.read|audit.export)/);
    const { exportLotRecord } = await data("auditor", EXPORT, { id: lots["carton-1"] });
    expect(exportLotRecord.errors).toEqual([]);
    const dir = exportLotRecord.export.directory as string;
    // carton-1 ◀ pouch-1 ◀ film-1, ink-1 ◀ resin-1, and pallet-1 and crate-1 made from it; paris-label-1 is outside the auditor's sites.
    expect(exportLotRecord.export.lots).toBe(7);

    const lotFile = JSON.parse(await readFile(path.join(dir, "lot.json"), "utf8"));
    expect(lotFile.genealogy.backward.map((t: any) => [t.depth, t.lot.code])).toContainEqual([3, "resin-1"]);
    expect(lotFile.genealogy.forward.map((t: any) => t.lot.code)).toEqual(["carton-1", "pallet-1", "crate-1"]);
    expect(lotFile.record.qualityResults.map((q: any) => q.characteristic)).toEqual(["drop test"]);
    expect(lotFile.signatures).toEqual([expect.objectContaining({ meaning: "released", valid: false })]);
    const auditLines = (await readFile(path.join(dir, "audit.ndjson"), "utf8")).trim().split("\n").map((line) => JSON.parse(line));
    expect(auditLines.map((e) => e.action)).toEqual(expect.arrayContaining(["lot.started", "lot.component_added", "record.signed", "lot.quality_recorded"]));
    expect(auditLines).toHaveLength(exportLotRecord.export.auditRecords);
    expect((await readFile(path.join(dir, "genealogy.csv"), "utf8")).split("\r\n")[0]).toMatch(/^direction,depth,lot_id,code/);
    expect((await readFile(path.join(dir, "summary.pdf"))).subarray(0, 5).toString()).toBe("%PDF-");

    const report = await verifyBundle(dir);
    expect(report).toMatchObject({ ok: true, format: "plantgraph-lot-bundle/1", lotRecord: { lotCode: "carton-1", lots: 7, signatures: 1, signaturesNoLongerMatching: 1, problems: [] } });

    // The lot with events and tasks: they are part of its record.
    const pouch = (await data("auditor", EXPORT, { id: lots["pouch-1"] })).exportLotRecord.export;
    const pouchFile = JSON.parse(await readFile(path.join(pouch.directory, "lot.json"), "utf8"));
    expect(pouchFile.tasks.map((t: any) => t.title)).toEqual(["check the sealer"]);
    expect(pouchFile.events.length).toBeGreaterThan(0);
    expect(pouchFile.alarms).toHaveLength(1);
    const pouchAudit = (await readFile(path.join(pouch.directory, "audit.ndjson"), "utf8")).trim().split("\n").map((line) => JSON.parse(line));
    expect(pouchAudit.map((e) => `${e.entityType}:${e.action}`)).toEqual(expect.arrayContaining(["alarm:alarm.raised", "lot:lot.started", "lot:lot.hold_changed"]));
    expect(pouchFile.operators).toContainEqual({ identity: identities.engineer, did: ["hold"] });

    // One changed byte anywhere is refused.
    const file = path.join(dir, "audit.ndjson");
    const bytes = await readFile(file);
    bytes[10] = bytes[10] === 0x31 ? 0x32 : 0x31;
    await writeFile(file, bytes);
    expect(await verifyBundle(dir)).toMatchObject({ ok: false, bundleProblem: expect.stringMatching(/audit.ndjson was changed/) });
    const { rows } = await testDb.database.query<{ actor: string }>(`select actor from audit_entry where action = 'lot.exported' and entity_id = $1`, [lots["carton-1"]]);
    expect(rows).toEqual([{ actor: identities.auditor }]);
  });
});
