import { and, desc, eq, gt, ne, sql } from "drizzle-orm";
import { alarms, type Severity } from "../../schema/db/events.js";
import { recordAudit } from "../audit/audit.js";
import type { Tx } from "../db/database.js";
import type { AfterCommit } from "../events/after-commit.js";
import type { MachineContext } from "../events/event-context.js";
import type { EventWriter } from "../events/event.store.js";

/**
 * The alarm lifecycle: active → acknowledged → cleared, one open alarm per (machine, rule).
 * A condition that clears while the alarm is unacknowledged leaves it active ("returned to
 * normal") until someone acknowledges it; acknowledging a returned alarm clears it.
 */

export type AlarmRow = typeof alarms.$inferSelect;

/** A raise within this long after a clear reopens the cleared alarm: a flapping sensor gets one alarm, one task. */
export const FLAP_WINDOW_MS = 5 * 60_000;

export interface RuleFacts {
  id: number;
  version: number;
  name: string;
  severity: Severity;
}

export interface Raise {
  rule: RuleFacts;
  machine: MachineContext;
  at: Date;
  value?: number;
  message: string;
  detail: Record<string, unknown>;
}

const snapshot = (a: AlarmRow) => ({ state: a.state, conditionActive: a.conditionActive, raiseCount: a.raiseCount, shelvedUntil: a.shelvedUntil?.toISOString() ?? null });

export const isShelved = (alarm: Pick<AlarmRow, "shelvedUntil">, now: Date) => alarm.shelvedUntil !== null && alarm.shelvedUntil > now;

export async function openAlarm(tx: Tx, machineId: number, ruleId: number): Promise<AlarmRow | undefined> {
  const [row] = await tx
    .select()
    .from(alarms)
    .where(and(eq(alarms.machineId, machineId), eq(alarms.ruleId, ruleId), ne(alarms.state, "cleared")))
    .for("update");
  return row;
}

/** Opens an alarm, or folds the raise into the open one (or into one cleared within the flap window). */
export async function raiseAlarm(tx: Tx, writer: EventWriter, after: AfterCommit, actor: string, raise: Raise): Promise<AlarmRow> {
  const { rule, machine } = raise;
  const existing = (await openAlarm(tx, machine.id, rule.id)) ?? (await recentlyCleared(tx, machine.id, rule.id, raise.at));
  if (existing) {
    const [row] = await tx
      .update(alarms)
      .set({
        conditionActive: true,
        state: existing.state === "cleared" ? "active" : existing.state,
        clearedAt: null,
        raiseCount: sql`${alarms.raiseCount} + 1`,
        value: raise.value ?? null,
        updatedAt: sql`now()`,
      })
      .where(eq(alarms.id, existing.id))
      .returning();
    await recordAudit(tx, { actor, action: "alarm.reraised", entityType: "alarm", entityId: row!.id, oldValue: snapshot(existing), newValue: snapshot(row!), reason: raise.message });
    changed(after, row!);
    return row!;
  }
  const [row] = await tx
    .insert(alarms)
    .values({
      machineId: machine.id,
      ruleId: rule.id,
      ruleVersion: rule.version,
      severity: rule.severity,
      message: raise.message,
      value: raise.value ?? null,
      detail: raise.detail,
      raisedAt: raise.at,
    })
    .returning();
  await recordAudit(tx, { actor, action: "alarm.raised", entityType: "alarm", entityId: row!.id, newValue: { ...snapshot(row!), ruleId: rule.id, ruleVersion: rule.version, message: raise.message }, reason: raise.message });
  await writer.record(
    { kind: "alarm.raised", at: raise.at, machineId: machine.id, ruleId: rule.id, ruleVersion: rule.version, alarmId: row!.id, severity: rule.severity, message: raise.message, detail: { ...raise.detail, value: raise.value } },
    { machine, ruleName: rule.name },
  );
  changed(after, row!);
  return row!;
}

/** The rule's condition cleared: an acknowledged alarm clears; an unacknowledged one waits for its acknowledgement. */
export async function conditionCleared(tx: Tx, writer: EventWriter, after: AfterCommit, actor: string, clear: Raise): Promise<AlarmRow | undefined> {
  const alarm = await openAlarm(tx, clear.machine.id, clear.rule.id);
  if (!alarm) return undefined;
  if (alarm.state === "acknowledged") return clearAlarm(tx, writer, after, actor, alarm, clear.at, clear.message, clear.machine, clear.rule.name);
  const [row] = await tx.update(alarms).set({ conditionActive: false, updatedAt: sql`now()` }).where(eq(alarms.id, alarm.id)).returning();
  await recordAudit(tx, { actor, action: "alarm.returned_to_normal", entityType: "alarm", entityId: alarm.id, oldValue: snapshot(alarm), newValue: snapshot(row!), reason: clear.message });
  changed(after, row!);
  return row;
}

/**
 * Someone (a person over GraphQL, or the tool when its task is done) acknowledges. An alarm whose
 * condition has already cleared is cleared by it. Undefined when the alarm is not open.
 */
export async function acknowledgeAlarm(
  tx: Tx,
  writer: EventWriter,
  after: AfterCommit,
  actor: string,
  alarmId: number,
  facts: { machine?: MachineContext; ruleName?: string; note?: string; requestId?: string },
): Promise<AlarmRow | undefined> {
  const [alarm] = await tx.select().from(alarms).where(eq(alarms.id, alarmId)).for("update");
  if (!alarm || alarm.state === "cleared") return undefined;
  const now = new Date();
  if (alarm.state === "active") {
    const [row] = await tx
      .update(alarms)
      .set({ state: "acknowledged", acknowledgedAt: now, acknowledgedBy: actor, updatedAt: now })
      .where(eq(alarms.id, alarm.id))
      .returning();
    await recordAudit(tx, { actor, action: "alarm.acknowledged", entityType: "alarm", entityId: alarm.id, oldValue: snapshot(alarm), newValue: snapshot(row!), reason: facts.note, requestId: facts.requestId });
    changed(after, row!);
    if (row!.conditionActive) return row;
    return clearAlarm(tx, writer, after, actor, row!, now, `${alarm.message} (cleared on acknowledgement)`, facts.machine, facts.ruleName);
  }
  // Already acknowledged: a second acknowledgement changes nothing unless the condition is gone.
  if (alarm.conditionActive) return alarm;
  return clearAlarm(tx, writer, after, actor, alarm, now, `${alarm.message} (cleared on acknowledgement)`, facts.machine, facts.ruleName);
}

export async function shelveAlarm(tx: Tx, after: AfterCommit, actor: string, alarmId: number, until: Date | null, reason: string, requestId?: string): Promise<AlarmRow | undefined> {
  const [alarm] = await tx.select().from(alarms).where(eq(alarms.id, alarmId)).for("update");
  if (!alarm || alarm.state === "cleared") return undefined;
  const [row] = await tx
    .update(alarms)
    .set({ shelvedUntil: until, shelvedBy: until ? actor : null, shelveReason: until ? reason : null, updatedAt: sql`now()` })
    .where(eq(alarms.id, alarm.id))
    .returning();
  await recordAudit(tx, { actor, action: until ? "alarm.shelved" : "alarm.unshelved", entityType: "alarm", entityId: alarm.id, oldValue: snapshot(alarm), newValue: snapshot(row!), reason, requestId });
  changed(after, row!);
  return row;
}

async function clearAlarm(
  tx: Tx,
  writer: EventWriter,
  after: AfterCommit,
  actor: string,
  alarm: AlarmRow,
  at: Date,
  message: string,
  machine: MachineContext | undefined,
  ruleName: string | undefined,
): Promise<AlarmRow> {
  const [row] = await tx.update(alarms).set({ state: "cleared", conditionActive: false, clearedAt: at, updatedAt: sql`now()` }).where(eq(alarms.id, alarm.id)).returning();
  await recordAudit(tx, { actor, action: "alarm.cleared", entityType: "alarm", entityId: alarm.id, oldValue: snapshot(alarm), newValue: snapshot(row!), reason: message });
  await writer.record(
    { kind: "alarm.cleared", at, machineId: alarm.machineId, ruleId: alarm.ruleId, ruleVersion: alarm.ruleVersion, alarmId: alarm.id, severity: alarm.severity, message },
    { machine, ruleName, shelved: isShelved(alarm, at) },
  );
  changed(after, row!);
  return row!;
}

async function recentlyCleared(tx: Tx, machineId: number, ruleId: number, at: Date): Promise<AlarmRow | undefined> {
  const [row] = await tx
    .select()
    .from(alarms)
    .where(and(eq(alarms.machineId, machineId), eq(alarms.ruleId, ruleId), eq(alarms.state, "cleared"), gt(alarms.clearedAt, new Date(at.getTime() - FLAP_WINDOW_MS))))
    .orderBy(desc(alarms.clearedAt))
    .limit(1)
    .for("update");
  return row;
}

function changed(after: AfterCommit, alarm: AlarmRow): void {
  after.publish("ALARM_CHANGED", { alarmId: alarm.id, machineId: alarm.machineId, state: alarm.state, at: alarm.updatedAt.toISOString() });
}
