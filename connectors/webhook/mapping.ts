import { z } from "zod";
import { taskStatuses } from "../sdk/index.js";
import type { ExternalTask, Notification, TaskDraft, TaskStatus, TaskUpdate } from "../sdk/index.js";
import type { WebhookConfig } from "./config.js";

export const createPayload = (draft: TaskDraft) => ({
  type: "task.create" as const,
  key: draft.key,
  title: draft.title,
  description: draft.description,
  assignee: draft.assignee ?? null,
  dueDate: draft.dueDate ?? null,
  labels: draft.labels,
  priority: draft.priority,
  link: draft.link ?? null,
});

export const updatePayload = (update: TaskUpdate) => ({
  type: "task.update" as const,
  id: update.externalId,
  status: update.status ?? null,
  comment: update.comment ?? null,
});

export const notificationPayload = (notification: Notification) => ({ type: "notification" as const, ...notification });

/** What a receiver answers to task calls: `{id, status?, url?}`; any of it may be missing. */
const answerSchema = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String).optional(),
  status: z.string().min(1).optional(),
  url: z.string().optional(),
});

/** The status callback's body. */
export const callbackSchema = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  status: z.string().min(1),
  actor: z.string().optional(),
  at: z.string().optional(),
});

export function statusOf(config: WebhookConfig, name: string): TaskStatus | undefined {
  return (taskStatuses as readonly string[]).includes(name) ? (name as TaskStatus) : config.statusMap[name];
}

/**
 * The task a receiver's answer describes. A receiver that answers 202 without a body keeps our
 * key as the id; without a status the task stands where we asked it to (`fallback`).
 */
export function taskFromAnswer(config: WebhookConfig, body: unknown, fallback: { id: string; status: TaskStatus }): ExternalTask {
  const answer = answerSchema.safeParse(body ?? {});
  const data = answer.success ? answer.data : {};
  const status = (data.status !== undefined ? statusOf(config, data.status) : undefined) ?? fallback.status;
  return {
    externalId: data.id ?? fallback.id,
    ...(data.url ? { url: data.url } : {}),
    status,
    externalStatus: data.status ?? status,
  };
}
