import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { applyPlant, applyPlantFile, applyPlantText, PlantFileRejected } from "../../src/assets/plant-apply.js";
import type { PlantSpec } from "../../src/assets/plant-file.js";
import type { Database } from "../../src/db/database.js";
import { createIntegration, integrationByName, openSecrets, updateIntegration } from "../../src/integrations/integration.service.js";
import { createLogger } from "../../src/log/logger.js";
import { createSecretBox } from "../../src/secrets/secret-box.js";
import { createPgliteDatabase, createTestDatabase } from "../support/database.js";

const log = createLogger("silent");

/** Joins lines so that argument N is line N of the file: expected line numbers can be read off. */
const doc = (...lines: string[]) => lines.join("\n") + "\n";

interface Variant {
  sealerUnit?: string;
  dropDisplayName?: boolean;
  dropSealer?: boolean;
  dropRunning?: boolean;
}

/**
 * Two sites, four levels, one empty line: 1 enterprise + 2 sites + 2 areas + 3 lines + 3 machines +
 * 4 data points = 15 entities.
 */
function plantYaml(enterprise: string, variant: Variant = {}): string {
  return doc(
    `enterprise: ${enterprise}`,
    "sites:",
    "  - name: berlin",
    "    timezone: Europe/Berlin",
    "    areas:",
    "      - name: packaging",
    "        lines:",
    "          - name: line-1",
    "            machines:",
    "              - name: filler-1",
    ...(variant.dropDisplayName ? [] : ["                displayName: Filler 1"]),
    "                dataPoints:",
    "                  - name: temperature",
    '                    unit: "°C"',
    "                    normalRange: { min: 20, max: 85 }",
    `                    mqtt: { topic: ${enterprise}/berlin/packaging/line-1/filler-1/telemetry, field: temperature }`,
    ...(variant.dropRunning ? [] : ["                  - name: running", "                    dataType: boolean"]),
    ...(variant.dropSealer
      ? []
      : [
          "              - name: sealer-1",
          "                dataPoints:",
          "                  - name: pressure",
          `                    unit: ${variant.sealerUnit ?? "bar"}`,
        ]),
    "          - name: line-2",
    "            machines: []",
    "  - name: lyon",
    "    timezone: Europe/Paris",
    "    areas:",
    "      - name: assembly",
    "        lines:",
    "          - name: line-a",
    "            machines:",
    "              - name: press-1",
    "                dataPoints:",
    "                  - name: force",
    "                    unit: kN",
    "                    dataType: integer",
  );
}
const ENTITIES = 15;

/** Valid apart from line 4 (unknown time zone) and line 13 (unknown data type). */
function invalidYaml(enterprise: string): string {
  return doc(
    `enterprise: ${enterprise}`, //                 1
    "sites:",
    "  - name: berlin",
    "    timezone: Mars/Olympus", //                 4
    "    areas:",
    "      - name: packaging",
    "        lines:",
    "          - name: line-1",
    "            machines:",
    "              - name: filler-1", //             10
    "                dataPoints:",
    "                  - name: temperature",
    "                    dataType: double", //      13
    "              - name: sealer-1",
  );
}

interface WorkflowVariant {
  overheatingLimit?: number;
  boardConfig?: string;
  dropBatchRule?: boolean;
  dropCloseAutomation?: boolean;
  /** The integration the batch automation names instead of the file's board. */
  batchIntegration?: string;
}

/**
 * One machine with two rules, a board integration and two automations: 1 enterprise + 1 site +
 * 1 area + 1 line + 1 machine + 2 data points + 2 rules + 1 integration + 2 automations = 12.
 * Integration and automation names carry the enterprise: they are hub-wide.
 */
function workflowYaml(enterprise: string, variant: WorkflowVariant = {}): string {
  const board = `board-${enterprise}`;
  return doc(
    `enterprise: ${enterprise}`,
    "sites: [{ name: berlin, areas: [{ name: packaging, lines: [{ name: line-1, machines: [{",
    "  name: filler-1,",
    "  dataPoints: [{ name: temperature, normalRange: { max: 85 } }, { name: parts, dataType: integer }],",
    "  rules: [",
    `    { name: overheating, point: temperature, severity: critical, kind: threshold, condition: above, limit: ${variant.overheatingLimit ?? 85}, forSeconds: 30 },`,
    ...(variant.dropBatchRule ? [] : ["    { name: batch, point: parts, kind: counter, batchSize: 500 },"]),
    "  ] }] }] }] }]",
    "integrations:",
    `  - { name: ${board}, kind: builtin, site: ${enterprise}/berlin, config: ${variant.boardConfig ?? "{}"} }`,
    "automations:",
    `  - name: qc-${enterprise}`,
    "    trigger: batch.completed",
    "    actions:",
    `      - { type: create_task, key: qc, integration: ${variant.batchIntegration ?? board}, title: "Quality check: batch {{event.detail.batchNumber}}" }`,
    ...(variant.dropCloseAutomation
      ? []
      : [
          `  - name: close-${enterprise}`,
          "    trigger: alarm.cleared",
          "    conditions: { severities: [warning, critical] }",
          `    actions: [{ type: close_task, key: close, integration: ${board} }]`,
        ]),
  );
}
const WORKFLOW_ENTITIES = 12;

const backends = [
  {
    name: "PostgreSQL",
    kind: "postgres",
    open: async () => {
      const test = await createTestDatabase("plant_apply");
      return { database: test.database, close: test.drop };
    },
  },
  {
    name: "PGlite",
    kind: "pglite",
    open: async () => {
      const database = await createPgliteDatabase();
      return { database, close: () => database.close() };
    },
  },
] as const;

describe.each(backends)("applyPlant on $name", ({ kind, open }) => {
  let database: Database;
  let close: (() => Promise<void>) | undefined;
  let tempDir: string | undefined;
  // Every test applies its own enterprise, so tests share the database without seeing each other.
  let next = 0;
  const newEnterprise = () => `acme-${++next}`;

  beforeAll(async () => {
    ({ database, close } = await open());
  });
  afterAll(async () => {
    await close?.();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  });
  // Automations are hub-wide and a pruning apply deletes every one its file does not list.
  afterEach(async () => {
    await database.query("delete from automation");
  });

  const apply = (text: string, options?: { prune?: boolean }) => applyPlantText(database, text, "plant.yaml", log, options);

  async function machinesOf(enterprise: string) {
    const { rows } = await database.query<{ path: string; display_name: string | null }>(
      "select path, display_name from machine where starts_with(path, $1) order by path",
      [`${enterprise}/`],
    );
    return rows;
  }

  async function dataPointsOf(enterprise: string) {
    const { rows } = await database.query<{ id: number; machine: string; name: string; unit: string | null }>(
      `select d.id, m.name as machine, d.name, d.unit, d.data_type, d.normal_min, d.normal_max, d.mqtt_topic, d.mqtt_field
         from data_point d join machine m on m.id = d.machine_id
        where starts_with(m.path, $1) order by m.path, d.name`,
      [`${enterprise}/`],
    );
    return rows;
  }

  async function pointId(enterprise: string, machine: string, name: string): Promise<number> {
    const point = (await dataPointsOf(enterprise)).find((p) => p.machine === machine && p.name === name);
    if (!point) throw new Error(`no data point ${machine}/${name} in ${enterprise}`);
    return point.id;
  }

  async function sitesOf(enterprise: string) {
    const { rows } = await database.query(
      `select s.name, s.timezone from site s join enterprise e on e.id = s.enterprise_id
        where e.name = $1 order by s.name`,
      [enterprise],
    );
    return rows;
  }

  async function linesOf(enterprise: string) {
    const { rows } = await database.query<{ path: string }>(
      `select s.name || '/' || a.name || '/' || l.name as path
         from line l join area a on a.id = l.area_id join site s on s.id = a.site_id
         join enterprise e on e.id = s.enterprise_id
        where e.name = $1 order by path`,
      [enterprise],
    );
    return rows.map((r) => r.path);
  }

  async function rowCounts() {
    const { rows } = await database.query(
      `select (select count(*)::int from enterprise) as enterprises, (select count(*)::int from site) as sites,
              (select count(*)::int from area) as areas, (select count(*)::int from line) as lines,
              (select count(*)::int from machine) as machines, (select count(*)::int from data_point) as data_points,
              (select count(*)::int from telemetry) as telemetry`,
    );
    return rows[0];
  }

  async function telemetryCount(dataPointId: number): Promise<number> {
    const { rows } = await database.query<{ n: number }>("select count(*)::int as n from telemetry where data_point_id = $1", [
      dataPointId,
    ]);
    return rows[0]?.n ?? -1;
  }

  async function insertTelemetry(dataPointId: number): Promise<void> {
    await database.query("insert into telemetry (data_point_id, ts, value) values ($1, now(), 1)", [dataPointId]);
  }

  it(`runs on ${kind}`, () => {
    expect(database.kind).toBe(kind);
  });

  it("creates every entity of a two-site plant, each parent counted once", async () => {
    const enterprise = newEnterprise();

    const summary = await apply(plantYaml(enterprise));

    expect(summary).toEqual({ created: ENTITIES, updated: 0, unchanged: 0, deleted: 0 });
    expect(await sitesOf(enterprise)).toEqual([
      { name: "berlin", timezone: "Europe/Berlin" },
      { name: "lyon", timezone: "Europe/Paris" },
    ]);
    expect(await linesOf(enterprise)).toEqual(["berlin/packaging/line-1", "berlin/packaging/line-2", "lyon/assembly/line-a"]);
    expect(await machinesOf(enterprise)).toEqual([
      { path: `${enterprise}/berlin/packaging/line-1/filler-1`, display_name: "Filler 1" },
      { path: `${enterprise}/berlin/packaging/line-1/sealer-1`, display_name: null },
      { path: `${enterprise}/lyon/assembly/line-a/press-1`, display_name: null },
    ]);
    const points = (await dataPointsOf(enterprise)).map(({ id: _id, ...point }) => point);
    expect(points).toEqual([
      {
        machine: "filler-1",
        name: "running",
        unit: null,
        data_type: "boolean",
        normal_min: null,
        normal_max: null,
        mqtt_topic: null,
        mqtt_field: null,
      },
      {
        machine: "filler-1",
        name: "temperature",
        unit: "°C",
        data_type: "float",
        normal_min: 20,
        normal_max: 85,
        mqtt_topic: `${enterprise}/berlin/packaging/line-1/filler-1/telemetry`,
        mqtt_field: "temperature",
      },
      {
        machine: "sealer-1",
        name: "pressure",
        unit: "bar",
        data_type: "float",
        normal_min: null,
        normal_max: null,
        mqtt_topic: null,
        mqtt_field: null,
      },
      {
        machine: "press-1",
        name: "force",
        unit: "kN",
        data_type: "integer",
        normal_min: null,
        normal_max: null,
        mqtt_topic: null,
        mqtt_field: null,
      },
    ]);
  });

  it("re-applying the same file changes nothing", async () => {
    const enterprise = newEnterprise();
    await apply(plantYaml(enterprise));
    const before = { machines: await machinesOf(enterprise), points: await dataPointsOf(enterprise), counts: await rowCounts() };

    const summary = await apply(plantYaml(enterprise), { prune: true });

    expect(summary).toEqual({ created: 0, updated: 0, unchanged: ENTITIES, deleted: 0 });
    expect({ machines: await machinesOf(enterprise), points: await dataPointsOf(enterprise), counts: await rowCounts() }).toEqual(
      before,
    );
  });

  it("changing one unit updates exactly that data point", async () => {
    const enterprise = newEnterprise();
    await apply(plantYaml(enterprise));

    const summary = await apply(plantYaml(enterprise, { sealerUnit: "psi" }));

    expect(summary).toEqual({ created: 0, updated: 1, unchanged: ENTITIES - 1, deleted: 0 });
    const units = (await dataPointsOf(enterprise)).map((p) => [p.machine, p.name, p.unit]);
    expect(units).toEqual([
      ["filler-1", "running", null],
      ["filler-1", "temperature", "°C"],
      ["sealer-1", "pressure", "psi"],
      ["press-1", "force", "kN"],
    ]);
  });

  it("a display name removed from the file is cleared", async () => {
    const enterprise = newEnterprise();
    await apply(plantYaml(enterprise));

    const summary = await apply(plantYaml(enterprise, { dropDisplayName: true }));

    expect(summary).toEqual({ created: 0, updated: 1, unchanged: ENTITIES - 1, deleted: 0 });
    expect((await machinesOf(enterprise)).map((m) => m.display_name)).toEqual([null, null, null]);
  });

  it("rejects an invalid file with every error's line and writes nothing", async () => {
    const enterprise = newEnterprise();
    await apply(plantYaml(enterprise));
    const before = await rowCounts();
    const machinesBefore = await machinesOf(enterprise);

    const error = await applyPlantText(database, invalidYaml(enterprise), "bad-plant.yaml", log).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(PlantFileRejected);
    const rejected = error as PlantFileRejected;
    expect(rejected.fileName).toBe("bad-plant.yaml");
    expect(rejected.errors.map((e) => e.line)).toEqual([4, 13]);
    const messageLines = rejected.message.split("\n");
    expect(messageLines).toHaveLength(2);
    expect(messageLines[0]).toMatch(/^bad-plant\.yaml:4:\d+ sites\[0\]\.timezone: .*IANA time zone/);
    expect(messageLines[1]).toMatch(/^bad-plant\.yaml:13:\d+ sites\[0\]\.areas\[0\]\.lines\[0\]\.machines\[0\]\.dataPoints\[0\]\.dataType: /);
    expect(await rowCounts()).toEqual(before);
    expect(await machinesOf(enterprise)).toEqual(machinesBefore);
  });

  it("rolls the whole apply back when a write fails part-way", async () => {
    const enterprise = newEnterprise();
    const before = await rowCounts();
    // Bypasses the file's validation so the database's own check constraint fails on the last write.
    const plant: PlantSpec = {
      enterprise,
      sites: [
        {
          name: "berlin",
          timezone: "Europe/Berlin",
          areas: [
            {
              name: "packaging",
              lines: [
                {
                  name: "line-1",
                  machines: [
                    { name: "filler-1", dataPoints: [{ name: "temperature", dataType: "float" }] },
                    { name: "sealer-1", dataPoints: [{ name: "pressure", dataType: "float", normalMin: 10, normalMax: 1 }] },
                  ],
                },
              ],
            },
          ],
        },
      ],
    };

    await expect(applyPlant(database, plant)).rejects.toThrow();

    expect(await rowCounts()).toEqual(before);
  });

  it("prune deletes a dropped machine and a dropped data point with their telemetry, nothing else", async () => {
    const bystander = newEnterprise();
    await apply(plantYaml(bystander));
    const bystanderPoints = await dataPointsOf(bystander);
    const enterprise = newEnterprise();
    await apply(plantYaml(enterprise));
    const pressure = await pointId(enterprise, "sealer-1", "pressure");
    const running = await pointId(enterprise, "filler-1", "running");
    const temperature = await pointId(enterprise, "filler-1", "temperature");
    for (const id of [pressure, running, temperature]) await insertTelemetry(id);

    const summary = await apply(plantYaml(enterprise, { dropSealer: true, dropRunning: true }), { prune: true });

    // sealer-1, its pressure point and filler-1's running point
    expect(summary).toEqual({ created: 0, updated: 0, unchanged: ENTITIES - 3, deleted: 3 });
    expect((await machinesOf(enterprise)).map((m) => m.path)).toEqual([
      `${enterprise}/berlin/packaging/line-1/filler-1`,
      `${enterprise}/lyon/assembly/line-a/press-1`,
    ]);
    expect((await dataPointsOf(enterprise)).map((p) => `${p.machine}/${p.name}`)).toEqual([
      "filler-1/temperature",
      "press-1/force",
    ]);
    expect(await telemetryCount(pressure)).toBe(0);
    expect(await telemetryCount(running)).toBe(0);
    expect(await telemetryCount(temperature)).toBe(1);
    // Another enterprise's machines are not this file's to prune.
    expect(await dataPointsOf(bystander)).toEqual(bystanderPoints);

    // Pruning again finds nothing left to delete.
    expect(await apply(plantYaml(enterprise, { dropSealer: true, dropRunning: true }), { prune: true })).toEqual({
      created: 0,
      updated: 0,
      unchanged: ENTITIES - 3,
      deleted: 0,
    });
  });

  it("without prune, dropped machines and data points and their telemetry stay", async () => {
    const enterprise = newEnterprise();
    await apply(plantYaml(enterprise));
    const pressure = await pointId(enterprise, "sealer-1", "pressure");
    const running = await pointId(enterprise, "filler-1", "running");
    for (const id of [pressure, running]) await insertTelemetry(id);
    const before = await dataPointsOf(enterprise);

    const summary = await apply(plantYaml(enterprise, { dropSealer: true, dropRunning: true }));

    expect(summary).toEqual({ created: 0, updated: 0, unchanged: ENTITIES - 3, deleted: 0 });
    expect((await machinesOf(enterprise)).map((m) => m.path)).toContain(`${enterprise}/berlin/packaging/line-1/sealer-1`);
    expect(await dataPointsOf(enterprise)).toEqual(before);
    expect(await telemetryCount(pressure)).toBe(1);
    expect(await telemetryCount(running)).toBe(1);
  });

  it("applyPlantFile reads the file, applies it and logs the summary at info", async () => {
    const enterprise = newEnterprise();
    tempDir ??= await mkdtemp(path.join(tmpdir(), "plant-apply-"));
    const file = path.join(tempDir, `${enterprise}.yaml`);
    await writeFile(file, plantYaml(enterprise));
    const records: Record<string, unknown>[] = [];
    const captured = createLogger("info", { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });

    const summary = await applyPlantFile(database, file, captured);

    expect(summary).toEqual({ created: ENTITIES, updated: 0, unchanged: 0, deleted: 0 });
    expect(records).toEqual([
      expect.objectContaining({ level: 30, msg: "plant file applied", file, enterprise, created: ENTITIES, deleted: 0 }),
    ]);
    expect(await machinesOf(enterprise)).toHaveLength(3);
  });

  async function rulesOf(enterprise: string) {
    const { rows } = await database.query<{ name: string; point: string; kind: string; params: Record<string, unknown>; severity: string; version: number }>(
      `select r.name, d.name as point, r.kind, r.params, r.severity, r.version
         from rule r join machine m on m.id = r.machine_id join data_point d on d.id = r.data_point_id
        where starts_with(m.path, $1) order by r.name`,
      [`${enterprise}/`],
    );
    return rows;
  }

  async function automationsOf(enterprise: string) {
    const { rows } = await database.query<{ name: string; trigger: string; actions: Record<string, unknown>[]; version: number }>(
      "select name, trigger, actions, version from automation where name like $1 order by name",
      [`%-${enterprise}`],
    );
    return rows;
  }

  const rejection = (text: string) =>
    apply(text).then(
      () => undefined,
      (e: unknown) => e,
    );

  it("creates rules, the integration (without secrets) and automations, audited as the plant file", async () => {
    const enterprise = newEnterprise();
    const { rows: [audited] } = await database.query<{ last: number }>("select coalesce(max(id), 0)::int as last from audit_entry");

    expect(await apply(workflowYaml(enterprise))).toEqual({ created: WORKFLOW_ENTITIES, updated: 0, unchanged: 0, deleted: 0 });

    expect(await rulesOf(enterprise)).toEqual([
      { name: "batch", point: "parts", kind: "counter", params: { kind: "counter", batchSize: 500, resetTolerance: 0 }, severity: "warning", version: 1 },
      {
        name: "overheating",
        point: "temperature",
        kind: "threshold",
        params: { kind: "threshold", condition: "above", limit: 85, hysteresis: 0, forSeconds: 30, clearForSeconds: 0 },
        severity: "critical",
        version: 1,
      },
    ]);
    const board = await integrationByName(database.db, `board-${enterprise}`);
    expect(board).toMatchObject({ kind: "builtin", site: `${enterprise}/berlin`, config: {}, secretsKeyId: "none", version: 1 });
    expect((await automationsOf(enterprise)).map((a) => [a.name, a.trigger, a.actions.map((x) => x.integration), a.version])).toEqual([
      [`close-${enterprise}`, "alarm.cleared", [`board-${enterprise}`], 1],
      [`qc-${enterprise}`, "batch.completed", [`board-${enterprise}`], 1],
    ]);
    const { rows } = await database.query<{ actor: string; action: string }>("select actor, action from audit_entry where id > $1 order by action", [audited?.last]);
    expect(rows).toEqual([
      { actor: "plant-file", action: "automation.created" },
      { actor: "plant-file", action: "automation.created" },
      { actor: "plant-file", action: "integration.created" },
      { actor: "plant-file", action: "integration.secrets_set" },
      { actor: "plant-file", action: "plant.applied" },
      { actor: "plant-file", action: "rule.created" },
      { actor: "plant-file", action: "rule.created" },
    ]);
  });

  it("applying the same file with rules, integrations and automations twice changes nothing", async () => {
    const enterprise = newEnterprise();
    await apply(workflowYaml(enterprise));
    const before = { rules: await rulesOf(enterprise), automations: await automationsOf(enterprise), board: await integrationByName(database.db, `board-${enterprise}`) };

    const summary = await apply(workflowYaml(enterprise), { prune: true });

    expect(summary).toEqual({ created: 0, updated: 0, unchanged: WORKFLOW_ENTITIES, deleted: 0 });
    expect({ rules: await rulesOf(enterprise), automations: await automationsOf(enterprise), board: await integrationByName(database.db, `board-${enterprise}`) }).toEqual(before);
  });

  it("a changed rule parameter updates that rule and bumps its version only", async () => {
    const enterprise = newEnterprise();
    await apply(workflowYaml(enterprise));

    const summary = await apply(workflowYaml(enterprise, { overheatingLimit: 90 }));

    expect(summary).toEqual({ created: 0, updated: 1, unchanged: WORKFLOW_ENTITIES - 1, deleted: 0 });
    expect((await rulesOf(enterprise)).map((r) => [r.name, r.params.limit, r.version])).toEqual([
      ["batch", undefined, 1],
      ["overheating", 90, 2],
    ]);
  });

  it("prune deletes the rules and automations the file no longer lists; without prune they stay", async () => {
    const enterprise = newEnterprise();
    await apply(workflowYaml(enterprise));
    const dropped = workflowYaml(enterprise, { dropBatchRule: true, dropCloseAutomation: true });

    expect(await apply(dropped)).toEqual({ created: 0, updated: 0, unchanged: WORKFLOW_ENTITIES - 2, deleted: 0 });
    expect((await rulesOf(enterprise)).map((r) => r.name)).toEqual(["batch", "overheating"]);
    expect(await automationsOf(enterprise)).toHaveLength(2);

    expect(await apply(dropped, { prune: true })).toEqual({ created: 0, updated: 0, unchanged: WORKFLOW_ENTITIES - 2, deleted: 2 });
    expect((await rulesOf(enterprise)).map((r) => r.name)).toEqual(["overheating"]);
    expect((await automationsOf(enterprise)).map((a) => a.name)).toEqual([`qc-${enterprise}`]);
    // Integrations hold secrets the file does not have: never pruned.
    expect(await integrationByName(database.db, `board-${enterprise}`)).toBeDefined();
  });

  it("prune deletes the rules of a dropped machine and counts them", async () => {
    const enterprise = newEnterprise();
    await apply(workflowYaml(enterprise));
    const withoutMachine = doc(`enterprise: ${enterprise}`, "sites: [{ name: berlin, areas: [{ name: packaging, lines: [{ name: line-1 }] }] }]");

    const { rows: [audited] } = await database.query<{ last: number }>("select coalesce(max(id), 0)::int as last from audit_entry");

    const summary = await apply(withoutMachine, { prune: true });

    // filler-1, its 2 data points, its 2 rules and the 2 automations the file no longer lists
    expect(summary).toMatchObject({ deleted: 7 });
    expect(await rulesOf(enterprise)).toEqual([]);
    const { rows } = await database.query<{ action: string }>("select action from audit_entry where id > $1 and actor = 'plant-file' order by action", [audited?.last]);
    expect(rows.map((r) => r.action)).toEqual(["automation.deleted", "automation.deleted", "plant.applied", "rule.deleted", "rule.deleted"]);
  });

  it("creates the integration once, keeps secrets set later, and updates only its config", async () => {
    const enterprise = newEnterprise();
    const name = `board-${enterprise}`;
    await apply(workflowYaml(enterprise));
    const box = createSecretBox(`k1:${Buffer.alloc(32, 7).toString("base64")}`);
    const created = (await integrationByName(database.db, name))!;
    await updateIntegration(database.db, box, created.id, { secrets: { apiToken: "s3cret" } }, { actor: "test" });
    const withSecrets = (await integrationByName(database.db, name))!;

    expect(await apply(workflowYaml(enterprise))).toMatchObject({ created: 0, updated: 0 });
    expect(await integrationByName(database.db, name)).toEqual(withSecrets);

    expect(await apply(workflowYaml(enterprise, { boardConfig: "{ columns: [todo, done] }" }))).toMatchObject({ created: 0, updated: 1 });
    const updated = (await integrationByName(database.db, name))!;
    expect(updated.id).toBe(created.id);
    expect(updated.config).toEqual({ columns: ["todo", "done"] });
    expect(openSecrets(box, updated)).toEqual({ apiToken: "s3cret" });
    const { rows } = await database.query<{ n: number }>("select count(*)::int as n from integration where name = $1", [name]);
    expect(rows[0]?.n).toBe(1);
  });

  it("rejects an automation naming an integration that exists nowhere, at its line, writing nothing", async () => {
    const enterprise = newEnterprise();
    const before = await rowCounts();

    const error = await rejection(workflowYaml(enterprise, { batchIntegration: "nowhere" }));

    expect(error).toBeInstanceOf(PlantFileRejected);
    expect((error as PlantFileRejected).message).toBe(
      'plant.yaml:15:52 automations[0].actions[0].integration: no integration "nowhere": declare it under integrations or create it first',
    );
    expect(await rowCounts()).toEqual(before);
    expect(await integrationByName(database.db, `board-${enterprise}`)).toBeUndefined();
  });

  it("accepts an automation naming an integration that exists in the database only", async () => {
    const enterprise = newEnterprise();
    await createIntegration(database.db, undefined, { kind: "builtin", name: `legacy-${enterprise}` }, { actor: "test" });

    await apply(workflowYaml(enterprise, { batchIntegration: `legacy-${enterprise}` }));

    expect((await automationsOf(enterprise)).find((a) => a.name === `qc-${enterprise}`)?.actions[0]?.integration).toBe(`legacy-${enterprise}`);
  });

  it("rejects an integration whose name is taken by one of another kind", async () => {
    const enterprise = newEnterprise();
    await createIntegration(database.db, undefined, { kind: "webhook", name: `board-${enterprise}`, config: { url: "https://example.com" } }, { actor: "test" });

    const error = await rejection(workflowYaml(enterprise));

    expect(error).toBeInstanceOf(PlantFileRejected);
    expect((error as PlantFileRejected).errors).toEqual([
      expect.objectContaining({ line: 10, path: "integrations[0].kind", message: `integration "board-${enterprise}" exists with kind "webhook"; its kind cannot change` }),
    ]);
    expect(await machinesOf(enterprise)).toEqual([]);
  });

  it("the demo plant applies, and applying it again with prune changes nothing", async () => {
    const demo = path.resolve("src/demo/demo-plant.yaml");

    const first = await applyPlantFile(database, demo, log);
    const again = await applyPlantFile(database, demo, log, { prune: true });

    // 1 + 1 + 1 + 2 levels, 6 machines with 4 points, 4 rules and a state config each, press-4 (Sparkplug)
    // with 5 points (one writable) and 4 rules, 1 stale rule, the board, 6 automations, the site's calendar
    // and retention, the OPC UA endpoint and the bindings of the 3 presses' 4 points; press-1's writable
    // setpoint (a point and its binding) and its OPC UA method
    expect(first).toEqual({ created: 5 + 6 * 10 + 10 + 1 + 1 + 6 + 1 + 1 + 1 + 3 * 4 + 2 + 1, updated: 0, unchanged: 0, deleted: 0 });
    // A retention policy that did not change is part of its site, not counted on its own.
    expect(again).toEqual({ created: 0, updated: 0, unchanged: first.created - 1, deleted: 0 });
  });
});
