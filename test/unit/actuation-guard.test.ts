import { describe, expect, it } from "vitest";
import { decideActuation, type GuardDecision, type GuardInput } from "../../src/actuation/actuation.guard.js";

const NOW = 1_780_000_000_000;
const base: GuardInput = {
  requester: { id: "user:ann", mayActuate: true },
  limits: { min: 0, max: 200, maxStep: 20, minIntervalMs: 5_000, critical: false },
  write: { dataType: "float", value: 110, current: 100 },
  lastSentAt: NOW - 60_000,
  now: NOW,
  dryRun: false,
};
const limits = (overrides: Partial<GuardInput["limits"]>) => ({ ...base.limits, ...overrides });
const write = (overrides: Partial<NonNullable<GuardInput["write"]>>) => ({ write: { ...base.write!, ...overrides } });
const methodLimits = { min: null, max: null, maxStep: null, minIntervalMs: 10_000, critical: false };

describe("decideActuation", () => {
  it.each<[string, Partial<GuardInput>, GuardDecision]>([
    ["within every limit: approved", {}, { outcome: "approved" }],
    ["without the right: refused whatever the value", { requester: { id: "system:automation:3", mayActuate: false } }, { outcome: "refused", reasons: ["system:automation:3 may not act on this target"] }],
    ["below the minimum", write({ value: -1, current: 0 }), { outcome: "refused", reasons: ["-1 is below the minimum 0"] }],
    ["above the maximum", write({ value: 201, current: 195 }), { outcome: "refused", reasons: ["201 is above the maximum 200"] }],
    ["at the maximum exactly", write({ value: 200, current: 195 }), { outcome: "approved" }],
    ["a step larger than the maximum step", write({ value: 121 }), { outcome: "refused", reasons: ["a step of 21 from 100 exceeds the maximum step 20"] }],
    ["a step of exactly the maximum, downwards", write({ value: 80 }), { outcome: "approved" }],
    ["no current value while a maximum step is set", write({ current: undefined }), { outcome: "refused", reasons: ["the point has no current value to measure the step from"] }],
    ["no current value and no maximum step", { ...write({ current: undefined }), limits: limits({ maxStep: null }) }, { outcome: "approved" }],
    ["within the minimum interval", { lastSentAt: NOW - 2_000 }, { outcome: "refused", reasons: ["the last one was sent 2 s ago; wait 3 s more"] }],
    ["the minimum interval just passed", { lastSentAt: NOW - 5_000 }, { outcome: "approved" }],
    ["several limits at once: every one is said", { ...write({ value: 250 }), lastSentAt: NOW - 1_000 }, {
      outcome: "refused",
      reasons: ["250 is above the maximum 200", "a step of 150 from 100 exceeds the maximum step 20", "the last one was sent 1 s ago; wait 4 s more"],
    }],
    ["an integer point given a fraction", write({ dataType: "integer", value: 101.5 }), { outcome: "refused", reasons: ["the point takes integers, got 101.5"] }],
    ["a boolean point given 2", { ...write({ dataType: "boolean", value: 2, current: 1 }), limits: limits({ min: null, max: null }) }, { outcome: "refused", reasons: ["the point takes 0 or 1, got 2"] }],
    ["a dry run within the limits: checked, not approved", { dryRun: true }, { outcome: "dry_run" }],
    ["a dry run outside the limits: refused all the same", { ...write({ value: 500 }), dryRun: true }, { outcome: "refused", reasons: ["500 is above the maximum 200", "a step of 400 from 100 exceeds the maximum step 20"] }],
    ["a critical point: waits for a second person", { limits: limits({ critical: true }) }, { outcome: "pending_approval" }],
    ["a critical point, dry run: nothing to approve", { limits: limits({ critical: true }), dryRun: true }, { outcome: "dry_run" }],
    ["a critical point approved by another person", { limits: limits({ critical: true }), approver: "user:bob" }, { outcome: "approved" }],
    ["a critical point approved by its requester", { limits: limits({ critical: true }), approver: "user:ann" }, {
      outcome: "refused",
      reasons: ["a critical action needs the approval of a second person, not of its requester"],
    }],
    ["approval re-checks the limits against the present", { ...write({ current: 60 }), limits: limits({ critical: true }), approver: "user:bob" }, {
      outcome: "refused",
      reasons: ["a step of 50 from 60 exceeds the maximum step 20"],
    }],
    ["a method call: no value limits, the interval still holds", { write: undefined, limits: methodLimits, lastSentAt: NOW - 4_000 }, {
      outcome: "refused",
      reasons: ["the last one was sent 4 s ago; wait 6 s more"],
    }],
    ["a method call after its interval", { write: undefined, limits: methodLimits }, { outcome: "approved" }],
    ["an offline machine: nothing would arrive", { offline: "sparkplug NDEATH g/n" }, { outcome: "refused", reasons: ["the machine is offline (sparkplug NDEATH g/n)"] }],
    ["not a number", write({ value: Number.NaN }), { outcome: "refused", reasons: ["the value must be a finite number"] }],
  ])("%s", (_title, overrides, expected) => {
    expect(decideActuation({ ...base, ...overrides })).toEqual(expected);
  });
});
