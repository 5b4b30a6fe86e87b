import { describe, expect, it } from "vitest";
import { decideActuation, type GuardDecision, type GuardInput } from "../../src/actuation/actuation.guard.js";

const NOW = 1_780_000_000_000;
const base: GuardInput = {
  requester: { id: "user:ann", mayActuate: true },
  limits: { min: 0, max: 200, maxStep: 20, minIntervalMs: 5_000, critical: false },
  dataType: "float",
  value: 110,
  current: 100,
  lastSentAt: NOW - 60_000,
  now: NOW,
  dryRun: false,
};
const limits = (overrides: Partial<GuardInput["limits"]>) => ({ ...base.limits, ...overrides });

describe("decideActuation", () => {
  it.each<[string, Partial<GuardInput>, GuardDecision]>([
    ["within every limit: approved", {}, { outcome: "approved" }],
    ["without the right: refused whatever the value", { requester: { id: "system:automation:3", mayActuate: false } }, { outcome: "refused", reasons: ["system:automation:3 may not write this point"] }],
    ["below the minimum", { value: -1, current: 0 }, { outcome: "refused", reasons: ["-1 is below the minimum 0"] }],
    ["above the maximum", { value: 201, current: 195 }, { outcome: "refused", reasons: ["201 is above the maximum 200"] }],
    ["at the maximum exactly", { value: 200, current: 195 }, { outcome: "approved" }],
    ["a step larger than the maximum step", { value: 121 }, { outcome: "refused", reasons: ["a step of 21 from 100 exceeds the maximum step 20"] }],
    ["a step of exactly the maximum, downwards", { value: 80 }, { outcome: "approved" }],
    ["no current value while a maximum step is set", { current: undefined }, { outcome: "refused", reasons: ["the point has no current value to measure the step from"] }],
    ["no current value and no maximum step", { current: undefined, limits: limits({ maxStep: null }) }, { outcome: "approved" }],
    ["within the minimum interval", { lastSentAt: NOW - 2_000 }, { outcome: "refused", reasons: ["the last write was sent 2 s ago; wait 3 s more"] }],
    ["the minimum interval just passed", { lastSentAt: NOW - 5_000 }, { outcome: "approved" }],
    ["several limits at once: every one is said", { value: 250, lastSentAt: NOW - 1_000 }, {
      outcome: "refused",
      reasons: ["250 is above the maximum 200", "a step of 150 from 100 exceeds the maximum step 20", "the last write was sent 1 s ago; wait 4 s more"],
    }],
    ["an integer point given a fraction", { dataType: "integer", value: 101.5 }, { outcome: "refused", reasons: ["the point takes integers, got 101.5"] }],
    ["a boolean point given 2", { dataType: "boolean", value: 2, current: 1, limits: limits({ min: null, max: null }) }, { outcome: "refused", reasons: ["the point takes 0 or 1, got 2"] }],
    ["a dry run within the limits: checked, not approved", { dryRun: true }, { outcome: "dry_run" }],
    ["a dry run outside the limits: refused all the same", { dryRun: true, value: 500 }, { outcome: "refused", reasons: ["500 is above the maximum 200", "a step of 400 from 100 exceeds the maximum step 20"] }],
    ["a critical point: waits for a second person", { limits: limits({ critical: true }) }, { outcome: "pending_approval" }],
    ["a critical point, dry run: nothing to approve", { limits: limits({ critical: true }), dryRun: true }, { outcome: "dry_run" }],
    ["a critical point approved by another person", { limits: limits({ critical: true }), approver: "user:bob" }, { outcome: "approved" }],
    ["a critical point approved by its requester", { limits: limits({ critical: true }), approver: "user:ann" }, {
      outcome: "refused",
      reasons: ["a critical write needs the approval of a second person, not of its requester"],
    }],
    ["approval re-checks the limits against the present", { limits: limits({ critical: true }), approver: "user:bob", current: 60 }, {
      outcome: "refused",
      reasons: ["a step of 50 from 60 exceeds the maximum step 20"],
    }],
    ["not a number", { value: Number.NaN }, { outcome: "refused", reasons: ["the value must be a finite number"] }],
  ])("%s", (_title, overrides, expected) => {
    expect(decideActuation({ ...base, ...overrides })).toEqual(expected);
  });
});
