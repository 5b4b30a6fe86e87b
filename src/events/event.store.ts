import { and, eq, gt, ne, sql } from "drizzle-orm";
import { automations, eventActions, events, type EventKind, type Severity } from "../../schema/db/events.js";
import { integrations } from "../../schema/db/security.js";
import { actuationRequests } from "../../schema/db/actuation.js";
import { requestSetpoint } from "../actuation/actuation.service.js";
import { recordAudit, systemActor } from "../audit/audit.js";
import { automationMatches } from "../automations/automation.matcher.js";
import { automationAction, automationConditions, type AutomationAction, type AutomationConditions } from "../automations/automation.schema.js";
import { execute, type Tx } from "../db/database.js";
import type { MachineState } from "../telemetry/machine-state.js";
import type { AfterCommit } from "./after-commit.js";
import { rollLot } from "../lots/lot-rollover.js";
import { LotRejected } from "../lots/lot.service.js";
import type { MachineContext } from "./event-context.js";

export type EventRow = typeof events.$inferSelect;

/** Who an automation's setpoint writes are requested by. */
const automationActor = (automationId: number) => systemActor(`automation:${automationId}`);
type ParsedAutomation = Omit<typeof automations.$inferSelect, "conditions" | "actions"> & { conditions: AutomationConditions; actions: AutomationAction[] };

export interface NewEvent {
  kind: EventKind;
  at: Date;
  machineId: number | null;
  ruleId?: number;
  ruleVersion?: number;
  alarmId?: number;
  severity: Severity;
  message: string;
  detail?: Record<string, unknown>;
}

/** What automations match on besides the event row itself. */
export interface EventFacts {
  machine?: MachineContext;
  ruleName?: string;
  state?: MachineState;
  /** The event's alarm is shelved: it is recorded, but it starts no actions. */
  shelved?: boolean;
}

/**
 * Records events and plans their automation actions inside one transaction. Made per transaction:
 * it reads the automations and integrations once, however many events the transaction records.
 */
export class EventWriter {
  /** The enabled automations, their conditions and actions parsed once per transaction, not once per event. */
  private automationRows?: Promise<ParsedAutomation[]>;
  private integrationRows?: Promise<Map<string, { id: number; kind: string; site: string | null }>>;
  /** When each (automation, machine) last planned actions in this transaction: cooldowns see uncommitted plans too. */
  private readonly planned = new Map<string, number>();

  constructor(
    private readonly tx: Tx,
    private readonly after: AfterCommit,
    private readonly actor: string,
  ) {}

  async record(event: NewEvent, facts: EventFacts): Promise<EventRow> {
    const [row] = await this.recordMany([{ event, facts }]);
    return row!;
  }

  /**
   * Several events in three statements whatever their number (events, audit rows, planned
   * actions), plus a lookup per automation with a cooldown. The hot path of busy plants.
   */
  async recordMany(items: readonly { event: NewEvent; facts: EventFacts }[]): Promise<EventRow[]> {
    if (items.length === 0) return [];
    const rows = await insertEvents(this.tx, items.map((i) => i.event));
    await recordAudit(
      this.tx,
      ...rows.map((row) => ({
        actor: this.actor,
        action: "event.recorded" as const,
        entityType: "event",
        entityId: row.id,
        newValue: { kind: row.kind, at: row.at.toISOString(), machineId: row.machineId, ruleId: row.ruleId, ruleVersion: row.ruleVersion, alarmId: row.alarmId, message: row.message },
      })),
    );
    const planned: PlannedAction[] = [];
    for (const [i, row] of rows.entries()) planned.push(...(await this.plan(row, items[i]!.facts)));
    if (planned.length > 0) {
      const kinds = new Map([...(await this.integrations()).values()].map((integration) => [integration.id, integration.kind]));
      const inserted = await insertActions(this.tx, planned);
      for (const action of inserted) this.after.job({ name: "action.run", data: { eventActionId: action.id } }, kinds.get(action.integrationId));
    }
    return rows;
  }

  /** The event_action rows of every matching automation's actions; skips are audited. */
  private async plan(event: EventRow, facts: EventFacts): Promise<PlannedAction[]> {
    const candidates = (await (this.automationRows ??= this.tx
      .select()
      .from(automations)
      .where(eq(automations.enabled, true))
      .then((rows) => rows.map((row) => ({ ...row, conditions: automationConditions.parse(row.conditions), actions: row.actions.map((a) => automationAction.parse(a)) }))))).filter(
      (a) => a.trigger === event.kind,
    );
    const planned: PlannedAction[] = [];
    for (const automation of candidates) {
      const context = {
        kind: event.kind,
        at: event.at,
        severity: event.severity,
        machinePath: facts.machine?.path,
        siteTimezone: facts.machine?.siteTimezone,
        ruleName: facts.ruleName,
        state: facts.state,
      };
      if (!automationMatches(automation, context)) continue;
      const skip = facts.shelved ? "alarm shelved" : (await this.inCooldown(automation, event)) ? `cooldown of ${automation.cooldownSeconds} s` : undefined;
      if (skip) {
        await this.skipped(event, automation.id, skip);
        continue;
      }
      for (const action of automation.actions) {
        if (action.type === "actuate") {
          await this.actuate(event, automation, action);
          continue;
        }
        if (action.type === "next_lot") {
          await this.nextLot(event, automation, action, facts.machine);
          continue;
        }
        const integration = (await this.integrations()).get(action.integration);
        const outsideSite = integration?.site && facts.machine && facts.machine.site !== integration.site;
        if (!integration || outsideSite) {
          const why = integration ? `integration "${action.integration}" serves ${integration.site} only` : `no integration named "${action.integration}"`;
          await this.skipped(event, automation.id, `${action.key}: ${why}`);
          continue;
        }
        planned.push({
          eventId: event.id,
          automationId: automation.id,
          automationVersion: automation.version,
          actionKey: `${automation.id}.${action.key}`,
          actionType: action.type,
          integrationId: integration.id,
          spec: action,
        });
        this.planned.set(`${automation.id}:${event.machineId}`, event.at.getTime());
      }
    }
    return planned;
  }

  /** An automation's setpoint write: requested (and audited) in the event's transaction, sent by the actuator after the commit. */
  private async actuate(event: EventRow, automation: ParsedAutomation, action: Extract<AutomationAction, { type: "actuate" }>): Promise<void> {
    if (event.machineId === null) return this.skipped(event, automation.id, `${action.key}: the event has no machine to write to`);
    const requested = await requestSetpoint(this.tx, this.after, {
      machineId: event.machineId,
      point: action.point,
      value: action.value,
      reason: action.reason ?? `automation "${automation.name}" on ${event.kind}: ${event.message}`,
      dryRun: false,
      requester: { id: automationActor(automation.id), kind: "automation" },
      eventId: event.id,
    });
    if (!requested.ok) await this.skipped(event, automation.id, `${action.key}: ${requested.message}`);
    else this.planned.set(`${automation.id}:${event.machineId}`, event.at.getTime());
  }

  /** A machine's signal rolls its lots over: in the event's transaction, audited in the automation's name. */
  private async nextLot(event: EventRow, automation: ParsedAutomation, action: Extract<AutomationAction, { type: "next_lot" }>, machine: MachineContext | undefined): Promise<void> {
    if (!machine) return this.skipped(event, automation.id, `${action.key}: the event has no machine to make lots on`);
    const detail = event.detail as { batchSize?: unknown; batchesCompleted?: unknown } | null;
    const quantity = typeof detail?.batchSize === "number" ? detail.batchSize * (typeof detail.batchesCompleted === "number" ? detail.batchesCompleted : 1) : undefined;
    try {
      // A savepoint: a refused start leaves the running lot running.
      const { ended, started } = await this.tx.transaction((savepoint) => rollLot(savepoint, { machine, at: event.at, codeTemplate: action.code, product: action.product, quantity, by: { actor: automationActor(automation.id) } }));
      this.after.publish("TRACE_UPDATED", { lotIds: ended ? [started.id, ended.id] : [started.id], at: new Date().toISOString() });
      this.planned.set(`${automation.id}:${event.machineId}`, event.at.getTime());
    } catch (error) {
      if (!(error instanceof LotRejected)) throw error;
      await this.skipped(event, automation.id, `${action.key}: ${error.message}`);
    }
  }

  private async inCooldown(automation: typeof automations.$inferSelect, event: EventRow): Promise<boolean> {
    if (automation.cooldownSeconds <= 0) return false;
    const plannedAt = this.planned.get(`${automation.id}:${event.machineId}`);
    if (plannedAt !== undefined && event.at.getTime() - plannedAt < automation.cooldownSeconds * 1000) return true;
    const [recent] = await this.tx
      .select({ id: eventActions.id })
      .from(eventActions)
      .innerJoin(events, eq(events.id, eventActions.eventId))
      .where(
        and(
          eq(eventActions.automationId, automation.id),
          event.machineId === null ? sql`${events.machineId} is null` : eq(events.machineId, event.machineId),
          ne(eventActions.status, "skipped"),
          gt(events.at, new Date(event.at.getTime() - automation.cooldownSeconds * 1000)),
        ),
      )
      .limit(1);
    if (recent) return true;
    // Its setpoint writes count too: they plan no event_action, but do start something.
    const [recentWrite] = await this.tx
      .select({ id: actuationRequests.id })
      .from(actuationRequests)
      .innerJoin(events, eq(events.id, actuationRequests.eventId))
      .where(
        and(
          eq(actuationRequests.requestedBy, automationActor(automation.id)),
          event.machineId === null ? sql`${events.machineId} is null` : eq(events.machineId, event.machineId),
          gt(events.at, new Date(event.at.getTime() - automation.cooldownSeconds * 1000)),
        ),
      )
      .limit(1);
    return recentWrite !== undefined;
  }

  private skipped(event: EventRow, automationId: number, reason: string): Promise<void> {
    return recordAudit(this.tx, { actor: this.actor, action: "action.skipped", entityType: "event", entityId: event.id, newValue: { automationId }, reason });
  }

  private integrations() {
    return (this.integrationRows ??= this.tx
      .select({ id: integrations.id, name: integrations.name, kind: integrations.kind, site: integrations.site })
      .from(integrations)
      .then((rows) => new Map(rows.map((r) => [r.name, r]))));
  }
}

type PlannedAction = Required<Pick<typeof eventActions.$inferInsert, "eventId" | "automationId" | "automationVersion" | "actionKey" | "actionType" | "integrationId" | "spec">>;

/** Events in one unnest insert (the builder's CPU per row is the recorder's bottleneck); rows in input order. */
async function insertEvents(tx: Tx, list: readonly NewEvent[]): Promise<EventRow[]> {
  const column = <T>(pick: (e: NewEvent) => T) => sql.param(list.map(pick));
  const { rows: inserted } = await execute<{ id: number; recordedAt: number }>(
    tx,
    sql`insert into event (kind, at, machine_id, rule_id, rule_version, alarm_id, severity, message, detail)
        select * from unnest(${column((e) => e.kind)}::text[], ${column((e) => e.at.toISOString())}::timestamptz[], ${column((e) => e.machineId)}::int4[],
          ${column((e) => e.ruleId ?? null)}::int4[], ${column((e) => e.ruleVersion ?? null)}::int4[], ${column((e) => e.alarmId ?? null)}::int8[],
          ${column((e) => e.severity)}::text[], ${column((e) => e.message)}::text[], ${column((e) => JSON.stringify(e.detail ?? {}))}::jsonb[])
        returning id::float8 as "id", extract(epoch from recorded_at)::float8 * 1000 as "recordedAt"`,
  );
  return list.map((e, i) => ({
    id: inserted[i]!.id,
    kind: e.kind,
    at: e.at,
    machineId: e.machineId,
    ruleId: e.ruleId ?? null,
    ruleVersion: e.ruleVersion ?? null,
    alarmId: e.alarmId ?? null,
    severity: e.severity,
    message: e.message,
    detail: e.detail ?? {},
    recordedAt: new Date(inserted[i]!.recordedAt),
  }));
}

/** Planned actions in one unnest insert; an action planned before (same event, integration and key) is skipped. */
async function insertActions(tx: Tx, list: readonly PlannedAction[]): Promise<{ id: number; integrationId: number }[]> {
  const column = <T>(pick: (a: PlannedAction) => T) => sql.param(list.map(pick));
  const { rows } = await execute<{ id: number; integrationId: number }>(
    tx,
    sql`insert into event_action (event_id, automation_id, automation_version, action_key, action_type, integration_id, spec)
        select * from unnest(${column((a) => a.eventId)}::int8[], ${column((a) => a.automationId)}::int4[], ${column((a) => a.automationVersion)}::int4[],
          ${column((a) => a.actionKey)}::text[], ${column((a) => a.actionType)}::text[], ${column((a) => a.integrationId)}::int4[], ${column((a) => JSON.stringify(a.spec))}::jsonb[])
        on conflict do nothing
        returning id::float8 as "id", integration_id as "integrationId"`,
  );
  return rows;
}
