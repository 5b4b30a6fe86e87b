import type { ExternalTask, TaskDraft, TaskStatus } from "../sdk/index.js";
import type { MeisterTaskConfig } from "./config.js";

/** MeisterTask task status codes. */
export const MT_STATUS = { open: 1, completed: 2, trashed: 8, completedArchived: 18 } as const;

export interface MeisterTaskTask {
  readonly id: number;
  readonly token?: string;
  readonly name: string;
  readonly notes?: string | null;
  readonly status: number;
  readonly section_id?: number;
  readonly section_name?: string;
  readonly status_updated_at?: string | null;
  readonly updated_at?: string | null;
}

/** The line in a task's notes that carries our idempotency key. */
export const keyLine = (key: string): string => `plantgraph-key: ${key}`;

export const hasKey = (task: MeisterTaskTask, key: string): boolean =>
  (task.notes ?? "").split(/\r?\n/).some((line) => line.trim() === keyLine(key));

export function toCreateTaskBody(draft: TaskDraft): Record<string, unknown> {
  const notes = [draft.description, draft.link ? `\n${draft.link}` : "", `\n${keyLine(draft.key)}`].join("");
  return { name: draft.title.slice(0, 255), notes, ...(draft.dueDate ? { due: `${draft.dueDate}T12:00:00Z` } : {}) };
}

/** What `PUT /tasks/{id}` gets for a canonical status. Undefined: the config cannot express it. */
export function toStatusBody(config: MeisterTaskConfig, status: TaskStatus): Record<string, number> | undefined {
  switch (status) {
    case "open":
      return { status: MT_STATUS.open, section_id: Number(config.sectionId) };
    case "in_progress":
      return config.inProgressSectionId ? { status: MT_STATUS.open, section_id: Number(config.inProgressSectionId) } : undefined;
    case "done":
      return { status: MT_STATUS.completed, ...(config.doneSectionId ? { section_id: Number(config.doneSectionId) } : {}) };
    case "cancelled":
      return { status: MT_STATUS.trashed };
  }
}

/** Status code first; an open task's column decides between open, in progress and done. */
export function canonicalStatus(config: MeisterTaskConfig, task: MeisterTaskTask): { status: TaskStatus; externalStatus: string } {
  if (task.status === MT_STATUS.completed) return { status: "done", externalStatus: "completed" };
  if (task.status === MT_STATUS.completedArchived) return { status: "done", externalStatus: "completed_archived" };
  if (task.status === MT_STATUS.trashed) return { status: "cancelled", externalStatus: "trashed" };
  const section = String(task.section_id ?? "");
  const externalStatus = task.section_name ?? "open";
  if (config.inProgressSectionId && section === config.inProgressSectionId) return { status: "in_progress", externalStatus };
  if (config.doneSectionId && section === config.doneSectionId) return { status: "done", externalStatus };
  return { status: "open", externalStatus };
}

export function toExternalTask(config: MeisterTaskConfig, task: MeisterTaskTask): ExternalTask {
  return {
    externalId: String(task.id),
    ...(task.token ? { externalKey: task.token, url: `${config.baseUrl}/app/task/${task.token}` } : {}),
    ...canonicalStatus(config, task),
  };
}
