import { describe, expect, it } from "vitest";
import type { RuleDefinition } from "../../../src/rules/evaluate.js";
import { RuleEngine } from "../../../src/rules/rule-engine.js";
import { ruleParams } from "../../../src/rules/rule.schema.js";
import type { Quality, Sample } from "../../../src/telemetry/sample.js";
import { at } from "./rule-harness.js";

const definition = (id: number, version: number, dataPointId: number, params: unknown): RuleDefinition => ({
  id,
  version,
  machineId: 3,
  dataPointId,
  severity: "warning",
  params: ruleParams.parse(params),
});
const hot = (version = 1) => definition(1, version, 42, { kind: "threshold", condition: "above", limit: 80, forSeconds: 30 });
const counter = definition(2, 1, 43, { kind: "counter", batchSize: 500 });
const stale = definition(3, 1, 42, { kind: "stale", afterSeconds: 60 });
const slower = definition(4, 1, 44, { kind: "deviation", direction: "below", percent: 15 });

const reading = (dataPointId: number, seconds: number, value: number, metric = "temperature", quality: Quality = "good"): Sample => ({
  dataPointId,
  machineId: 3,
  metric,
  ts: at(seconds),
  value,
  quality,
});

describe("RuleEngine", () => {
  it("load keeps the state of unchanged rules, resets changed versions and drops removed rules", () => {
    const engine = new RuleEngine();
    engine.load([hot(), counter]);
    engine.onSamples([reading(42, 0, 85)]);
    expect(engine.snapshot(1)?.phase).toBe("PENDING");

    engine.load([hot(), counter]);
    expect(engine.snapshot(1)?.phase).toBe("PENDING");
    expect(engine.tick(at(30)).map((t) => t.message)).toEqual(["temperature 85 above 80 for 30 s"]);

    engine.load([hot(2), counter]);
    expect(engine.snapshot(1)?.phase).toBe("NORMAL");
    expect(engine.tick(at(60))).toEqual([]);

    engine.load([counter]);
    expect(engine.snapshot(1)).toBeUndefined();
    expect(engine.onSamples([reading(42, 90, 99)])).toEqual([]);
  });

  it("evaluates each sample against every rule of its data point only, naming the metric", () => {
    const engine = new RuleEngine();
    engine.load([definition(1, 1, 42, { kind: "threshold", condition: "above", limit: 80 }), stale, counter]);
    const transitions = engine.onSamples([reading(42, 0, 90, "spindle temperature"), reading(99, 1, 1000), reading(43, 2, 0, "parts")]);
    expect(transitions.map((t) => [t.ruleId, t.message])).toEqual([[1, "spindle temperature 90 above 80"]]);
    expect(engine.snapshot(3)).toMatchObject({ lastReadingTs: at(0) });
  });

  it("evaluates a batch in time order, whatever order it arrives in", () => {
    const engine = new RuleEngine();
    engine.load([counter]);
    const transitions = engine.onSamples([reading(43, 3, 1000), reading(43, 1, 0), reading(43, 2, 500)]);
    expect(transitions.map((t) => [t.at, t.detail["batchNumber"]])).toEqual([
      [at(2), 1],
      [at(3), 2],
    ]);
  });

  it("tick drives stale data: raised on the tick, cleared by the next sample", () => {
    const engine = new RuleEngine();
    engine.load([stale]);
    engine.onSamples([reading(42, 0, 1)]);
    expect(engine.tick(at(59))).toEqual([]);
    expect(engine.tick(at(60)).map((t) => [t.type, t.message])).toEqual([["raised", "no reading for 60 s"]]);
    expect(engine.onSamples([reading(42, 61, 1, "temperature", "bad")])).toEqual([]);
    expect(engine.onSamples([reading(42, 62, 1)]).map((t) => t.type)).toEqual(["cleared"]);
  });

  it("seedHistory starts a deviation baseline learned", () => {
    const engine = new RuleEngine();
    engine.load([slower]);
    engine.seedHistory(4, Array.from({ length: 30 }, (_, i) => ({ ts: at(i * 10), value: 120 })));
    engine.seedHistory(999, [{ ts: at(0), value: 1 }]);
    expect(engine.snapshot(4)).toMatchObject({ baseline: 120 });
    expect(engine.onSamples([reading(44, 400, 96, "speed")]).map((t) => t.message)).toEqual(["speed 20 % below its baseline 120 (median of 1 h)"]);
  });

  it("snapshot is a copy: changing it changes nothing in the engine", () => {
    const engine = new RuleEngine();
    engine.load([slower]);
    engine.seedHistory(4, Array.from({ length: 30 }, (_, i) => ({ ts: at(i * 10), value: 120 })));
    const copy = engine.snapshot(4);
    if (copy?.kind !== "deviation") throw new Error("expected a deviation state");
    copy.baseline = 1;
    copy.history.values.fill(1);
    expect(engine.snapshot(4)).toMatchObject({ baseline: 120 });
    expect(JSON.parse(JSON.stringify(engine.snapshot(4)))).toEqual(engine.snapshot(4));
  });
});
