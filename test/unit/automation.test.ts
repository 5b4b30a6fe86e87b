import { describe, expect, it } from "vitest";
import { automationMatches, withinTimeOfDay, type EventContext } from "../../src/automations/automation.matcher.js";
import { automationSpec } from "../../src/automations/automation.schema.js";
import { renderTemplate } from "../../src/automations/template.js";

describe("automation templates", () => {
  const context = { machine: { name: "sealer-2", path: "acme/p1/pack/l1/sealer-2" }, event: { value: 86.23456, detail: { batchNumber: 4 }, at: new Date("2026-11-25T06:00:00Z") } };

  it.each([
    ["{{machine.name}} at {{ event.value }}", "sealer-2 at 86.23"],
    ["batch {{event.detail.batchNumber}}", "batch 4"],
    ["{{event.at}}", "2026-11-25T06:00:00.000Z"],
    ["missing: [{{rule.name}}]", "missing: []"],
    ["no walking the prototype: [{{machine.constructor}}] [{{event.__proto__}}]", "no walking the prototype: [] []"],
    ["{{ not a placeholder }} stays", "{{ not a placeholder }} stays"],
  ])("renders %j", (template, expected) => {
    expect(renderTemplate(template, context)).toBe(expected);
  });
});

describe("automation conditions", () => {
  const base = { trigger: "alarm.raised", enabled: true };
  const event: EventContext = { kind: "alarm.raised", at: new Date("2026-11-25T21:30:00Z"), severity: "critical", machinePath: "acme/p1/pack/l1/sealer-2", siteTimezone: "Europe/Berlin", ruleName: "overheating" };
  const matches = (conditions: object, e: Partial<EventContext> = {}) => automationMatches({ ...base, conditions }, { ...event, ...e });

  it("matches on trigger, site, line, machine, severity and rule", () => {
    expect(matches({})).toBe(true);
    expect(matches({}, { kind: "alarm.cleared" })).toBe(false);
    expect(matches({ sites: ["acme/p1"] })).toBe(true);
    expect(matches({ sites: ["acme/p2"] })).toBe(false);
    expect(matches({ lines: ["acme/p1/pack/l1"] })).toBe(true);
    expect(matches({ lines: ["acme/p1/pack/l2"] })).toBe(false);
    expect(matches({ machines: ["acme/p1/pack/l1/sealer-2"] })).toBe(true);
    expect(matches({ severities: ["warning"] })).toBe(false);
    expect(matches({ rules: ["overheating"] })).toBe(true);
    expect(matches({ rules: ["at-capacity"] })).toBe(false);
    expect(matches({ states: ["maintenance"] })).toBe(false);
    expect(automationMatches({ ...base, enabled: false, conditions: {} }, event)).toBe(false);
  });

  it("reads the time of day in the site's zone, wrapping past midnight", () => {
    // 21:30 UTC is 22:30 in Berlin in November.
    expect(matches({ timeOfDay: { from: "22:00", to: "06:00" } })).toBe(true);
    expect(matches({ timeOfDay: { from: "06:00", to: "22:00" } })).toBe(false);
    expect(matches({ timeOfDay: { from: "21:00", to: "22:00", timezone: "UTC" } })).toBe(true);
    expect(withinTimeOfDay(new Date("2026-03-29T01:30:00Z"), "03:00", "04:00", "Europe/Berlin")).toBe(true); // 03:30 CEST, the day clocks jump
  });
});

describe("automation specs", () => {
  const action = { type: "create_task", key: "ticket", integration: "board", title: "{{event.message}}" };

  it("fills defaults", () => {
    const spec = automationSpec.parse({ name: "a", trigger: "alarm.raised", actions: [action] });
    expect(spec).toMatchObject({ conditions: {}, cooldownSeconds: 0, enabled: true, actions: [{ description: "{{event.message}}", labels: [] }] });
  });

  it.each([
    ["no actions", { actions: [] }, "actions"],
    ["duplicate action keys", { actions: [action, action] }, "actions.1.key"],
    ["close_task on a batch trigger", { trigger: "batch.completed", actions: [{ type: "close_task", key: "close", integration: "jira" }] }, "actions.0.type"],
    ["an unknown trigger", { trigger: "alarm.exploded" }, "trigger"],
    ["a bad time of day", { conditions: { timeOfDay: { from: "25:00", to: "06:00" } } }, "conditions.timeOfDay.from"],
    ["a label with spaces", { actions: [{ ...action, labels: ["two words"] }] }, "actions.0.labels.0"],
  ])("refuses %s", (_, change, path) => {
    const result = automationSpec.safeParse({ name: "a", trigger: "alarm.raised", actions: [action], ...change });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).toContain(path);
  });
});
