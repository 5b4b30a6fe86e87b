import { z } from "zod";
import { ConnectorError } from "../sdk/index.js";
import type { ExternalTask, StatusChange, TaskDraft, TaskStatus } from "../sdk/index.js";
import type { RedmineConfig } from "./config.js";

export const issueSchema = z.object({
  id: z.number().int(),
  subject: z.string().optional(),
  description: z.string().nullish(),
  status: z.object({ id: z.number().int(), name: z.string(), is_closed: z.boolean().optional() }),
  updated_on: z.string().optional(),
});
export type Issue = z.infer<typeof issueSchema>;

export const oneIssue = z.object({ issue: issueSchema });
export const issuePage = z.object({
  issues: z.array(issueSchema),
  total_count: z.number().int(),
  offset: z.number().int().optional(),
  limit: z.number().int().optional(),
});

/** The line in the description that carries our idempotency key (searchable with `description=~`). */
export const keyLine = (key: string): string => `plantgraph-key: ${key}`;

export function hasKey(issue: Issue, key: string): boolean {
  return (issue.description ?? "").split(/\r?\n/).some((line) => line.trim() === keyLine(key));
}

const SUBJECT_MAX = 255;

export function issueFromDraft(config: RedmineConfig, draft: TaskDraft, log: (msg: string) => void): { issue: Record<string, unknown> } {
  const assignee = draft.assignee?.trim();
  if (assignee && !/^\d+$/.test(assignee)) log(`redmine: assignee "${assignee}" is not a numeric user id; issue left unassigned`);
  const priorityId = config.priorityMap[draft.priority];
  const extra = [
    draft.labels.length > 0 ? `Labels: ${draft.labels.join(", ")}` : undefined,
    draft.link ? `Link: ${draft.link}` : undefined,
    keyLine(draft.key),
  ].filter((line): line is string => line !== undefined);
  return {
    issue: {
      project_id: config.projectId,
      ...(config.trackerId ? { tracker_id: config.trackerId } : {}),
      subject: draft.title.length <= SUBJECT_MAX ? draft.title : `${draft.title.slice(0, SUBJECT_MAX - 1)}…`,
      description: [draft.description, extra.join("\n")].join("\n\n"),
      ...(priorityId ? { priority_id: priorityId } : {}),
      ...(draft.dueDate ? { due_date: draft.dueDate } : {}),
      ...(assignee && /^\d+$/.test(assignee) ? { assigned_to_id: Number(assignee) } : {}),
    },
  };
}

export function statusIdFor(config: RedmineConfig, status: TaskStatus): number {
  const ids: Record<TaskStatus, number> = {
    open: config.openStatusId,
    in_progress: config.inProgressStatusId,
    done: config.doneStatusId,
    cancelled: config.cancelledStatusId,
  };
  return ids[status];
}

/** By name through the status map; a status left out counts as done when Redmine says it is closed. */
export function statusOf(config: RedmineConfig, status: Issue["status"]): TaskStatus {
  return config.statusMap[status.name] ?? (status.is_closed ? "done" : "in_progress");
}

export function taskFromIssue(config: RedmineConfig, issue: Issue): ExternalTask {
  return {
    externalId: String(issue.id),
    externalKey: `#${issue.id}`,
    url: `${config.baseUrl}/issues/${issue.id}`,
    status: statusOf(config, issue.status),
    externalStatus: issue.status.name,
  };
}

export function changeFromIssue(config: RedmineConfig, issue: Issue, seenAt: Date): StatusChange {
  const at = issue.updated_on ? new Date(issue.updated_on) : seenAt;
  return {
    externalId: String(issue.id),
    status: statusOf(config, issue.status),
    externalStatus: issue.status.name,
    at: (Number.isNaN(at.getTime()) ? seenAt : at).toISOString(),
  };
}

export function issueId(externalId: string): number {
  if (!/^\d+$/.test(externalId)) throw new ConnectorError("not_found", `redmine: "${externalId}" is not an issue id`);
  return Number(externalId);
}
