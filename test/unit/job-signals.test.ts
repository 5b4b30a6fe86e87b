import { describe, expect, it } from "vitest";
import { effectiveStateConfig, machineStateConfig } from "../../src/availability/state-config.js";
import { StateEngine } from "../../src/availability/state-engine.js";

const points = new Map([[1, "product"], [2, "processed"]]);
const sample = (dataPointId: number, ts: number, value: number) => ({ dataPointId, machineId: 7, metric: points.get(dataPointId)!, ts, value, quality: "good" as const });

describe("job signals", () => {
  it("count the units completed for the job's product; a job change's reading still belongs to the job before", () => {
    const config = effectiveStateConfig(machineStateConfig.parse({ job: { product: "product", products: { "1": "cola" }, unitsCompleted: "processed" } }), ["product", "processed"]);
    expect(config.counters).toEqual({ produced: "processed" });
    const engine = new StateEngine(600_000);
    engine.load([{ id: 7, config, points, calendar: () => ({ until: Number.POSITIVE_INFINITY }) }]);
    const counts = [
      [sample(1, 0, 1), sample(2, 0, 0)],
      [sample(2, 1_000, 10)],
      [sample(1, 2_000, 2), sample(2, 2_000, 3)], // new job, count restarted: 3 more of the cola job
      [sample(2, 3_000, 8)],
    ].flatMap((batch) => engine.samples(batch).counts);
    expect(counts.map((c) => [c.at, c.product, c.produced, c.good])).toEqual([
      [1_000, "cola", 10, 10],
      [2_000, "cola", 3, 3],
      [3_000, "2", 5, 5],
    ]);
  });

  it("refuses product values that are not whole numbers", () => {
    const issue = machineStateConfig.safeParse({ job: { product: "product", products: { cola: "cola" } } }).error?.issues[0];
    expect(issue?.path).toEqual(["job", "products", "cola"]);
  });
});
