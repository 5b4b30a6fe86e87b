import { and, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { machines } from "../../../schema/db/assets.js";
import { integrations } from "../../../schema/db/security.js";
import { tasks, type TaskStatus } from "../../../schema/db/tasks.js";
import { inSites } from "../../assets/asset.queries.js";
import type { DbOrTx } from "../../db/database.js";
import { countAll, newestFirstPage } from "../../db/keyset-page.js";
import type { TaskRow } from "../../tasks/task.service.js";

export interface TaskWithIntegration {
  task: TaskRow;
  integration: { id: number; name: string; kind: string };
}

export interface TaskFilter {
  machineId?: number;
  alarmId?: number;
  integrationId?: number;
  statuses?: readonly TaskStatus[];
  /** Only tasks of machines in these sites (never machine-less ones); undefined: every task. */
  sites?: readonly string[];
}

const selection = { task: tasks, integration: { id: integrations.id, name: integrations.name, kind: integrations.kind } };

function conditionsOf(filter: TaskFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.machineId !== undefined) conditions.push(eq(tasks.machineId, filter.machineId));
  if (filter.alarmId !== undefined) conditions.push(eq(tasks.alarmId, filter.alarmId));
  if (filter.integrationId !== undefined) conditions.push(eq(tasks.integrationId, filter.integrationId));
  if (filter.statuses) conditions.push(filter.statuses.length ? inArray(tasks.status, [...filter.statuses]) : sql`false`);
  if (filter.sites) conditions.push(inSites(machines.path, filter.sites));
  return conditions;
}

/** Keyset page of tasks, newest first; `beforeId` is the last id of the previous page. */
export async function pageTasks(
  db: DbOrTx,
  filter: TaskFilter,
  page: { beforeId?: number; limit: number },
): Promise<{ rows: TaskWithIntegration[]; totalCount: number }> {
  return newestFirstPage(
    tasks.id,
    and(...conditionsOf(filter)),
    page.beforeId,
    (pageWhere) =>
      db
        .select(selection)
        .from(tasks)
        .innerJoin(integrations, eq(integrations.id, tasks.integrationId))
        .leftJoin(machines, eq(machines.id, tasks.machineId))
        .where(pageWhere)
        .orderBy(desc(tasks.id))
        .limit(page.limit),
    (where) => db.select(countAll).from(tasks).leftJoin(machines, eq(machines.id, tasks.machineId)).where(where),
  );
}

export async function taskById(db: DbOrTx, id: number): Promise<TaskWithIntegration | undefined> {
  const [row] = await db.select(selection).from(tasks).innerJoin(integrations, eq(integrations.id, tasks.integrationId)).where(eq(tasks.id, id));
  return row;
}

/** Tasks of these alarms, machines or events, newest first. */
export async function tasksOf(db: DbOrTx, by: "alarmId" | "machineId" | "eventId", ids: readonly number[]): Promise<TaskWithIntegration[]> {
  if (ids.length === 0) return [];
  return db
    .select(selection)
    .from(tasks)
    .innerJoin(integrations, eq(integrations.id, tasks.integrationId))
    .where(inArray(tasks[by], [...ids]))
    .orderBy(desc(tasks.id));
}
