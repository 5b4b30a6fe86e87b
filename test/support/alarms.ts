import { randomBytes } from "node:crypto";
import { eventActions, events } from "../../schema/db/events.js";
import { tasks } from "../../schema/db/tasks.js";
import { raiseAlarm, type AlarmRow } from "../../src/alarms/alarm.service.js";
import type { Db } from "../../src/db/database.js";
import { AfterCommit } from "../../src/events/after-commit.js";
import { machineContexts } from "../../src/events/event-context.js";
import { EventWriter } from "../../src/events/event.store.js";
import { saveRule, type RuleRow } from "../../src/rules/rule.service.js";
import type { TaskRow } from "../../src/tasks/task.service.js";

/**
 * Rows of the alarm path made through the real services (rules, alarms) or, where a worker would
 * write them (tasks, dead actions), as the worker leaves them.
 */

export async function seedRule(db: Db, machineId: number, dataPoint: string, name = `rule-${randomBytes(3).toString("hex")}`): Promise<RuleRow> {
  const { row } = await saveRule(db, { machineId, dataPoint, name, severity: "critical", params: { kind: "threshold", condition: "above", limit: 80 } }, "test");
  return row;
}

/** Raises an alarm of `rule` the way the rule runner does; returns it with what it wanted to tell after commit. */
export async function raiseTestAlarm(db: Db, rule: RuleRow, value = 91): Promise<{ alarm: AlarmRow; after: AfterCommit }> {
  const after = new AfterCommit();
  const alarm = await db.transaction(async (tx) => {
    const machine = (await machineContexts(tx, [rule.machineId])).get(rule.machineId)!;
    return raiseAlarm(tx, new EventWriter(tx, after, "test"), after, "test", {
      rule: { id: rule.id, version: rule.version, name: rule.name, severity: rule.severity },
      machine,
      at: new Date(),
      value,
      message: `${rule.name}: ${value} above 80`,
      detail: {},
    });
  });
  return { alarm, after };
}

async function seedEvent(db: Db, machineId: number | null, alarmId: number | null): Promise<number> {
  const [event] = await db
    .insert(events)
    .values({ kind: "alarm.raised", at: new Date(), machineId, alarmId, severity: "critical", message: "seeded event" })
    .returning({ id: events.id });
  return event!.id;
}

/** A task as the worker records it after the tool created it. */
export async function seedTask(db: Db, task: { integrationId: number; machineId: number | null; alarmId?: number | null; title?: string }): Promise<TaskRow> {
  const eventId = await seedEvent(db, task.machineId, task.alarmId ?? null);
  const key = `pg-e${eventId}-seed`;
  const [row] = await db
    .insert(tasks)
    .values({
      integrationId: task.integrationId,
      eventId,
      actionKey: "1.seed",
      machineId: task.machineId,
      alarmId: task.alarmId ?? null,
      idempotencyKey: key,
      externalId: key,
      title: task.title ?? "seeded task",
      status: "open",
      externalStatus: "open",
    })
    .returning();
  return row!;
}

/** An action the worker gave up on: status dead after its attempts. */
export async function seedDeadAction(db: Db, integrationId: number, machineId: number | null): Promise<typeof eventActions.$inferSelect> {
  const eventId = await seedEvent(db, machineId, null);
  const [row] = await db
    .insert(eventActions)
    .values({
      eventId,
      automationVersion: 1,
      actionKey: "1.ticket",
      actionType: "create_task",
      integrationId,
      spec: { type: "create_task", key: "ticket", integration: "seeded", title: "t" },
      status: "dead",
      attempts: 8,
      errorKind: "rejected",
      lastError: "400 project does not exist",
    })
    .returning();
  return row!;
}
