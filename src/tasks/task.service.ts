import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { ExternalTask, StatusChange } from "../../connectors/sdk/types.js";
import { tasks, type TaskStatus } from "../../schema/db/tasks.js";
import { acknowledgeAlarm } from "../alarms/alarm.service.js";
import { recordAudit } from "../audit/audit.js";
import type { DbOrTx, Tx } from "../db/database.js";
import type { AfterCommit } from "../events/after-commit.js";
import { machineContexts, type MachineContext } from "../events/event-context.js";
import { EventWriter } from "../events/event.store.js";

export type TaskRow = typeof tasks.$inferSelect;

export interface NewTask {
  integrationId: number;
  eventId: number;
  actionKey: string;
  eventActionId: number;
  machineId: number | null;
  alarmId: number | null;
  idempotencyKey: string;
  title: string;
  assignee?: string;
}

/** A task the tool created (or that findTask found), to record. */
export interface CreatedTask {
  task: NewTask;
  external: ExternalTask;
  found: boolean;
}

/**
 * Records tasks the tool created (or that findTask found), in two statements however many. The
 * unique (integration, event, action) makes a second insert a no-op: the first row stays and is
 * returned. Rows come back in the order of `created`.
 */
export async function recordTasks(tx: Tx, after: AfterCommit, actor: string, created: readonly CreatedTask[]): Promise<TaskRow[]> {
  if (created.length === 0) return [];
  const inserted = await tx
    .insert(tasks)
    .values(
      created.map(({ task, external }) => ({
        ...task,
        assignee: task.assignee ?? null,
        externalId: external.externalId,
        externalKey: external.externalKey ?? null,
        url: external.url ?? null,
        status: external.status,
        externalStatus: external.externalStatus,
      })),
    )
    .onConflictDoNothing()
    .returning();
  const key = (t: Pick<TaskRow, "integrationId" | "eventId" | "actionKey">) => `${t.integrationId}/${t.eventId}/${t.actionKey}`;
  const rows = new Map(inserted.map((row) => [key(row), row]));
  const foundKeys = new Set(created.filter((c) => c.found).map((c) => key(c.task)));
  await recordAudit(
    tx,
    ...inserted.map((row) => ({
      actor,
      action: foundKeys.has(key(row)) ? ("task.found" as const) : ("task.created" as const),
      entityType: "task",
      entityId: row.id,
      newValue: { integrationId: row.integrationId, eventId: row.eventId, externalId: row.externalId, externalKey: row.externalKey, status: row.status, title: row.title },
    })),
  );
  for (const row of inserted) taskChanged(after, row);
  for (const { task } of created) {
    if (rows.has(key(task))) continue;
    const [existing] = await tx
      .select()
      .from(tasks)
      .where(and(eq(tasks.integrationId, task.integrationId), eq(tasks.eventId, task.eventId), eq(tasks.actionKey, task.actionKey)));
    rows.set(key(task), existing!);
  }
  return created.map(({ task }) => rows.get(key(task))!);
}

/**
 * The one canonical "task status changed": from a webhook, a poll, our own update or the built-in
 * board. A change to the status the task already has is an echo (often of our own update) and
 * does nothing. In progress puts the machine in maintenance; done acknowledges the task's alarm
 * in the name of the person who closed it (clearing it when its condition is gone).
 */
export async function applyStatusChange(tx: Tx, after: AfterCommit, integrationId: number, change: StatusChange, actor: string): Promise<TaskRow | undefined> {
  const [task] = await tx
    .select()
    .from(tasks)
    .where(and(eq(tasks.integrationId, integrationId), eq(tasks.externalId, change.externalId)))
    .for("update");
  if (!task || (task.status === change.status && task.externalStatus === change.externalStatus)) return undefined;
  const at = new Date(change.at);
  const [row] = await tx
    .update(tasks)
    .set({ status: change.status, externalStatus: change.externalStatus, statusChangedAt: at, statusChangedBy: change.actor ?? actor, updatedAt: sql`now()` })
    .where(eq(tasks.id, task.id))
    .returning();
  await recordAudit(tx, {
    actor,
    action: "task.status_changed",
    entityType: "task",
    entityId: task.id,
    oldValue: { status: task.status, externalStatus: task.externalStatus },
    newValue: { status: row!.status, externalStatus: row!.externalStatus, by: change.actor ?? null },
  });
  taskChanged(after, row!);
  if (task.status === change.status) return row;

  const machine = task.machineId === null ? undefined : (await machineContexts(tx, [task.machineId])).get(task.machineId);
  const writer = new EventWriter(tx, after, actor);
  const message = `task ${task.externalKey ?? task.externalId} ${task.status} → ${change.status}`;
  await writer.record(
    { kind: "task.status_changed", at, machineId: task.machineId, alarmId: task.alarmId ?? undefined, severity: "info", message, detail: { taskId: task.id, from: task.status, to: change.status, by: change.actor } },
    { machine },
  );
  if (machine) await maintenanceTransition(tx, writer, task, change.status, machine, at);
  if (change.status === "done" && task.alarmId !== null) {
    await acknowledgeAlarm(tx, writer, after, change.actor ? `${actor}:${change.actor}` : actor, task.alarmId, { machine, note: `task ${task.externalKey ?? task.externalId} done` });
  }
  return row;
}

/** Machine state follows its tasks: the first task in progress enters maintenance, the last one leaving it ends it. */
async function maintenanceTransition(tx: Tx, writer: EventWriter, task: TaskRow, to: TaskStatus, machine: MachineContext, at: Date): Promise<void> {
  const entering = to === "in_progress";
  const leaving = task.status === "in_progress";
  if (!entering && !leaving) return;
  const [other] = await tx
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.machineId, machine.id), eq(tasks.status, "in_progress"), ne(tasks.id, task.id)))
    .limit(1);
  if (other) return; // already in maintenance through another task
  await writer.record(
    {
      kind: "machine.state_changed",
      at,
      machineId: machine.id,
      severity: "info",
      message: entering ? `${machine.name} in maintenance (task ${task.externalKey ?? task.externalId} in progress)` : `${machine.name} out of maintenance`,
      detail: { state: entering ? "maintenance" : null, previous: entering ? null : "maintenance", taskId: task.id },
    },
    { machine, state: entering ? "maintenance" : undefined },
  );
}

/** Machines with a task in progress: in maintenance, whatever their telemetry says. */
export async function machinesInMaintenance(db: DbOrTx, machineIds: readonly number[]): Promise<Set<number>> {
  if (machineIds.length === 0) return new Set();
  const rows = await db
    .selectDistinct({ machineId: tasks.machineId })
    .from(tasks)
    .where(and(inArray(tasks.machineId, [...machineIds]), eq(tasks.status, "in_progress")));
  return new Set(rows.map((r) => r.machineId!));
}

export function taskChanged(after: AfterCommit, task: TaskRow): void {
  after.publish("TASK_CHANGED", { taskId: task.id, machineId: task.machineId, alarmId: task.alarmId, integrationId: task.integrationId, status: task.status, at: task.updatedAt.toISOString() });
}
