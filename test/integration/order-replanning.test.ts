import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { parseConfig } from "../../src/config.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createLogger } from "../../src/log/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { graphql } from "../support/graphql.js";
import { TEST_REDIS_URL } from "../support/services.js";

/**
 * Planners move orders over GraphQL and the projections of the orders behind follow at once. A
 * line of two machines planned around the clock that have counted nothing yet, so their ideal
 * cycle times set the pace: the cutter 10 s a part, the press 20 s. 360 blades take the cutter an
 * hour, the press two; an order of the line (no machine) runs at the press's pace, its bottleneck.
 */

const enterprise = `rp${randomBytes(3).toString("hex")}`;
const plant = stringify({
  enterprise,
  sites: [
    {
      name: "plant",
      areas: [
        {
          name: "hall",
          lines: [
            {
              name: "line-1",
              machines: [
                { name: "cutter", dataPoints: [{ name: "speed" }], state: { products: { blade: 10 } } },
                { name: "press", dataPoints: [{ name: "speed" }], state: { products: { blade: 20 } } },
              ],
            },
          ],
        },
      ],
    },
  ],
});
const HOUR = 3_600_000;
const SAVE = `mutation($input: SaveProductionOrderInput!) { saveProductionOrder(input: $input) { order { number projectedCompletionAt atRisk riskReason } errors { field message } } }`;
const LIST = `query($a: ID!) { productionOrders(assetId: $a) { number machine { name } line { name } projectedCompletionAt atRisk riskReason } }`;

describe("re-planning orders over GraphQL", () => {
  let testDb: TestDatabase;
  let hub: Hub;
  let key = "";
  const ids = {} as Record<"cutter" | "press" | "line", string>;
  const log = createLogger("silent");

  async function data(query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
    const result = await graphql(hub.graphqlUrl!, query, variables, key);
    expect(result.errors).toBeUndefined();
    return result.data!;
  }
  const save = async (input: Record<string, unknown>) => {
    const payload = (await data(SAVE, { input: { product: "blade", dueAt: new Date(Date.now() + 24 * HOUR).toISOString(), ...input } })).saveProductionOrder;
    expect(payload.errors).toEqual([]);
    return payload.order;
  };
  /** Each order's projected completion, in hours from now (to the minute), and its machine or line. */
  async function projections(): Promise<Record<string, { on: string; hours: number | null; atRisk: boolean }>> {
    const { productionOrders } = await data(LIST, { a: ids.line });
    return Object.fromEntries(
      productionOrders.map((o: any) => [
        o.number,
        { on: o.machine?.name ?? `line ${o.line.name}`, hours: o.projectedCompletionAt === null ? null : Math.round((Date.parse(o.projectedCompletionAt) - Date.now()) / 60_000) / 60, atRisk: o.atRisk },
      ]),
    );
  }

  beforeAll(async () => {
    testDb = await createTestDatabase("order_replanning");
    await applyPlantText(testDb.database, plant, "rp.yaml", log);
    for (const name of ["cutter", "press"] as const) {
      const row = (await machineByPath(testDb.database.db, `${enterprise}/plant/hall/line-1/${name}`))!;
      ids[name] = globalId("Machine", row.id);
      ids.line = globalId("Line", row.lineId);
    }
    key = (await createApiKey(testDb.database.db, { name: "planner", role: "planner", sites: null, createdBy: "test" })).key;
    const config = parseConfig({ NODE_ENV: "test", DATABASE_URL: testDb.url, REDIS_URL: TEST_REDIS_URL, JOBS_PREFIX: `rp${randomBytes(3).toString("hex")}`, PORT: "0", SIMULATOR: "false", LOG_LEVEL: "silent", RATE_LIMIT_PER_MINUTE: "100000" });
    hub = await startHub({ config, roles: ["api"], log });
  });

  afterAll(async () => {
    await hub?.stop();
    await testDb?.drop();
  });

  it("moves the orders behind one that is re-sequenced or reassigned", async () => {
    await save({ number: "B-1", quantity: 360, machineId: ids.cutter, sequence: 1 });
    await save({ number: "B-2", quantity: 360, machineId: ids.cutter, sequence: 2 });
    expect(await projections()).toMatchObject({ "B-1": { on: "cutter", hours: 1 }, "B-2": { on: "cutter", hours: 2 } });

    // B-2 runs ahead of B-1 now.
    expect(await save({ number: "B-2", quantity: 360, machineId: ids.cutter, sequence: 0 })).toMatchObject({ number: "B-2", projectedCompletionAt: expect.any(String) });
    expect(await projections()).toMatchObject({ "B-1": { on: "cutter", hours: 2 }, "B-2": { on: "cutter", hours: 1 } });

    // B-2 moves to the press (2 h there): B-1, left alone on the cutter, moves up to 1 h.
    await save({ number: "B-2", quantity: 360, machineId: ids.press, sequence: 0 });
    expect(await projections()).toMatchObject({ "B-1": { on: "cutter", hours: 1 }, "B-2": { on: "press", hours: 2 } });
  });

  it("projects an order of the line at its bottleneck's pace after the machines' queues, and warns when it is late", async () => {
    // The cutter is free in 1 h, the press in 2 h; then 360 blades at the press's 20 s: 2 h more.
    const order = await save({ number: "L-1", quantity: 360, lineId: ids.line, dueAt: new Date(Date.now() + 3.5 * HOUR).toISOString() });
    expect(order).toMatchObject({ atRisk: true, riskReason: expect.stringMatching(/after the due date: 360 parts left at 20\.0 s per good part \(ideal\)/) });
    expect((await projections())["L-1"]).toEqual({ on: "line line-1", hours: 4, atRisk: true });
    const { rows } = await testDb.database.query<{ machine_id: number | null; detail: { number: string; lineId: string } }>(`select machine_id, detail from event where kind = 'order.at_risk'`);
    expect(rows).toEqual([{ machine_id: null, detail: expect.objectContaining({ number: "L-1", lineId: expect.any(String) }) }]);

    // The line's machines are busy with it: capacity counts it on both.
    const capacity = await data(`query($a: ID!, $to: DateTime!) { capacity(assetId: $a, from: "${new Date().toISOString()}", to: $to) { machines { machine { name } committedSeconds } } }`, { a: ids.line, to: new Date(Date.now() + 5 * HOUR).toISOString() });
    const committed = Object.fromEntries(capacity.capacity.machines.map((m: any) => [m.machine.name, Math.round(m.committedSeconds / 60)]));
    expect(committed).toEqual({ cutter: 60 + 120, press: 120 + 120 });

    // B-2 goes back to the cutter, behind B-1: the press is free now, so the line order starts when the cutter is, in 2 h.
    await save({ number: "B-2", quantity: 360, machineId: ids.cutter, sequence: 2 });
    expect(await projections()).toMatchObject({ "B-1": { hours: 1 }, "B-2": { on: "cutter", hours: 2 }, "L-1": { hours: 4 } });
    // Moving B-2 after the line order is not possible (line orders follow machine queues); cancelling it is: L-1 starts in 1 h.
    await save({ number: "B-2", quantity: 360, machineId: ids.cutter, cancelled: true });
    expect((await projections())["L-1"]).toEqual({ on: "line line-1", hours: 3, atRisk: false });
  });
});
