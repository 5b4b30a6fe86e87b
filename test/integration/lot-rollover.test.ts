import { DateTime } from "luxon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { machineContexts } from "../../src/events/event-context.js";
import { createLogger } from "../../src/log/logger.js";
import { rollLot } from "../../src/lots/lot-rollover.js";
import { LotRejected, startLot } from "../../src/lots/lot.service.js";
import type { RuleTransition } from "../../src/rules/evaluate.js";
import { seedRule } from "../support/alarms.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { recordTransitions } from "../support/events.js";
import { sealerPath, sealerPerSitePlant } from "../support/plant.js";

/** Lots rolled over by a machine's completed batches: a next_lot automation ends the running lot and starts the next. */
describe("lots started and ended from a machine's signals", () => {
  let testDb: TestDatabase;
  let machine: { id: number; path: string };
  let ruleId: number;
  let automationId: number;
  let batch = 0;

  const completeBatch = (): RuleTransition[] => {
    batch += 1;
    return [
      {
        type: "batch_completed",
        ruleId,
        ruleVersion: 1,
        machineId: machine.id,
        dataPointId: 0,
        at: Date.now(),
        value: batch * 500,
        message: `batch ${batch} of 500 parts completed`,
        detail: { batchNumber: batch, firstBatchNumber: batch, batchesCompleted: 1, batchSize: 500 },
      },
    ];
  };
  const lotsOfMachine = async () =>
    (await testDb.database.query<{ code: string; status: string; quantity: number | null; unit: string | null; product: string | null; started_by: string; ended_by: string | null }>(
      `select code, status, quantity, unit, product, started_by, ended_by from lot where machine_id = $1 order by id`,
      [machine.id],
    )).rows;

  beforeAll(async () => {
    testDb = await createTestDatabase("lot_rollover");
    // From the plant file, with the default code template.
    const automation = `automations:\n  - name: roll lots\n    trigger: batch.completed\n    actions:\n      - { type: next_lot, key: lot, product: pouch }\n`;
    await applyPlantText(testDb.database, `${sealerPerSitePlant("roll", ["berlin"])}${automation}`, "plant.yaml", createLogger("silent"));
    const row = (await machineByPath(testDb.database.db, sealerPath("roll", "berlin")))!;
    machine = { id: row.id, path: row.path };
    ruleId = (await seedRule(testDb.database.db, machine.id, "temperature", "parts")).id;
    automationId = (await testDb.database.query<{ id: number }>(`select id from automation where name = 'roll lots'`)).rows[0]!.id;
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it("starts a lot at the first batch, then ends it with the batch's parts and starts the next, audited in the automation's name", async () => {
    const date = DateTime.now().setZone("UTC").toISODate();
    const actor = `system:automation:${automationId}`;
    await recordTransitions(testDb.database, undefined, completeBatch());
    expect(await lotsOfMachine()).toEqual([{ code: `sealer-1-${date}-1`, status: "running", quantity: null, unit: null, product: "pouch", started_by: actor, ended_by: null }]);

    await recordTransitions(testDb.database, undefined, completeBatch());
    expect(await lotsOfMachine()).toEqual([
      { code: `sealer-1-${date}-1`, status: "ended", quantity: 500, unit: "parts", product: "pouch", started_by: actor, ended_by: actor },
      { code: `sealer-1-${date}-2`, status: "running", quantity: null, unit: null, product: "pouch", started_by: actor, ended_by: null },
    ]);
    const { rows } = await testDb.database.query<{ action: string; actor: string }>(`select action, actor from audit_entry where entity_type = 'lot' order by id`);
    expect(rows).toEqual([
      { action: "lot.started", actor },
      { action: "lot.ended", actor },
      { action: "lot.started", actor },
    ]);
  });

  it("ends a lot started by hand too, and numbers past the codes taken", async () => {
    const date = DateTime.now().setZone("UTC").toISODate();
    await startLot(testDb.database.db, machine, { code: `sealer-1-${date}-3`, product: "film" }, { actor: "key:7" });
    await recordTransitions(testDb.database, undefined, completeBatch());
    const lots = await lotsOfMachine();
    expect(lots.map((l) => [l.code, l.status])).toEqual([
      [`sealer-1-${date}-1`, "ended"],
      [`sealer-1-${date}-2`, "running"],
      [`sealer-1-${date}-3`, "ended"],
      [`sealer-1-${date}-4`, "running"],
    ]);
  });

  it("refuses a code template that renders nothing, leaving the running lot as it was", async () => {
    const context = (await machineContexts(testDb.database.db, [machine.id])).get(machine.id)!;
    const before = await lotsOfMachine();
    await expect(
      testDb.database.db.transaction((tx) => rollLot(tx, { machine: context, at: new Date(), codeTemplate: "{{nothing}}", by: { actor: "test" } })),
    ).rejects.toThrow(LotRejected);
    expect(await lotsOfMachine()).toEqual(before);
  });
});
