import type { Severity } from "../../schema/db/events.js";
import type { MachineState } from "../telemetry/machine-state.js";
import type { AutomationConditions, AutomationTrigger } from "./automation.schema.js";

/** What conditions are checked against: the event and where it happened. */
export interface EventContext {
  kind: string;
  at: Date;
  severity: Severity;
  machinePath?: string;
  siteTimezone?: string;
  ruleName?: string;
  /** For machine.state_changed: the state entered. */
  state?: MachineState;
}

export interface MatchableAutomation {
  trigger: AutomationTrigger | string;
  enabled: boolean;
  conditions: AutomationConditions;
}

/** Pure: does this automation want this event? (Cooldown needs history and is checked by the recorder.) */
export function automationMatches(automation: MatchableAutomation, event: EventContext): boolean {
  if (!automation.enabled || automation.trigger !== event.kind) return false;
  const c = automation.conditions;
  const segments = event.machinePath?.split("/") ?? [];
  const within = (list: readonly string[] | undefined, depth: number) =>
    list === undefined || (segments.length >= depth && list.includes(segments.slice(0, depth).join("/")));
  if (!within(c.sites, 2) || !within(c.lines, 4) || !within(c.machines, 5)) return false;
  if (c.severities && !c.severities.includes(event.severity)) return false;
  if (c.rules && (event.ruleName === undefined || !c.rules.includes(event.ruleName))) return false;
  if (c.states && (event.state === undefined || !c.states.includes(event.state))) return false;
  if (c.timeOfDay && !withinTimeOfDay(event.at, c.timeOfDay.from, c.timeOfDay.to, c.timeOfDay.timezone ?? event.siteTimezone ?? "UTC")) {
    return false;
  }
  return true;
}

/** `from` inclusive, `to` exclusive, local wall-clock time; wraps past midnight when from > to. */
export function withinTimeOfDay(at: Date, from: string, to: string, timeZone: string): boolean {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(at);
  const hour = parts.find((p) => p.type === "hour")?.value ?? "00";
  const minute = parts.find((p) => p.type === "minute")?.value ?? "00";
  const now = `${hour}:${minute}`;
  return from <= to ? now >= from && now < to : now >= from || now < to;
}
