import type { ExternalTask, TaskDraft, TaskPriority, TaskStatus } from "../sdk/index.js";
import type { JiraConfig } from "./config.js";

/** Jira JSON shapes the connector reads (only the fields it uses). */
export interface JiraStatus {
  readonly id?: string;
  readonly name: string;
  readonly statusCategory?: { readonly key?: string };
}
export interface JiraIssue {
  readonly id: string;
  readonly key: string;
  readonly fields?: { readonly status?: JiraStatus };
}
export interface JiraTransition {
  readonly id: string;
  readonly name: string;
  readonly to: JiraStatus;
}

/** Atlassian Document Format: the body Jira Cloud v3 takes for descriptions and comments. */
export interface AdfDoc {
  readonly type: "doc";
  readonly version: 1;
  readonly content: readonly AdfParagraph[];
}
interface AdfParagraph {
  readonly type: "paragraph";
  readonly content: readonly AdfText[];
}
interface AdfText {
  readonly type: "text";
  readonly text: string;
  readonly marks?: readonly { readonly type: "link"; readonly attrs: { readonly href: string } }[];
}

/** One paragraph per non-empty line (ADF rejects empty text nodes); the link as its own paragraph. */
export function toAdf(text: string, link?: string): AdfDoc {
  const paragraphs: AdfParagraph[] = text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => ({ type: "paragraph", content: [{ type: "text", text: line }] }));
  if (link) paragraphs.push({ type: "paragraph", content: [{ type: "text", text: link, marks: [{ type: "link", attrs: { href: link } }] }] });
  return { type: "doc", version: 1, content: paragraphs };
}

/** Jira labels cannot contain spaces. */
export const toLabel = (label: string): string => label.trim().replace(/\s+/g, "-");

/** Jira Cloud account ids: 24 hex digits, or `<number>:<uuid>` for older accounts. */
export const isAccountId = (value: string): boolean => /^([0-9a-f]{24}|\d+:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$/i.test(value);

/** The names of Jira's default priority scheme. */
const priorityNames: Record<TaskPriority, string> = { low: "Low", medium: "Medium", high: "High", critical: "Highest" };

export function toCreateIssueBody(config: JiraConfig, draft: TaskDraft): { fields: Record<string, unknown> } {
  const labels = [...new Set([...draft.labels, draft.key].map(toLabel).filter((label) => label !== ""))];
  return {
    fields: {
      project: { key: config.projectKey },
      issuetype: { name: config.issueType },
      summary: draft.title.slice(0, 255),
      description: toAdf(draft.description, draft.link),
      labels,
      priority: { name: priorityNames[draft.priority] },
      ...(draft.dueDate ? { duedate: draft.dueDate } : {}),
      // Jira Cloud identifies people by accountId only (GDPR); anything else is left out.
      ...(draft.assignee && isAccountId(draft.assignee)
        ? { assignee: { accountId: draft.assignee } }
        : {}),
    },
  };
}

const defaultStatusMap: Readonly<Record<string, TaskStatus>> = {
  "to do": "open",
  open: "open",
  backlog: "open",
  reopened: "open",
  "in progress": "in_progress",
  "in review": "in_progress",
  done: "done",
  closed: "done",
  resolved: "done",
  cancelled: "cancelled",
  canceled: "cancelled",
  "won't do": "cancelled",
};

const categoryStatus: Readonly<Record<string, TaskStatus>> = { new: "open", indeterminate: "in_progress", done: "done" };

/** The configured map first, then the defaults, then the status category Jira gives every status. */
export function canonicalStatus(config: JiraConfig, status: JiraStatus): TaskStatus {
  const name = status.name.trim().toLowerCase();
  for (const [configured, canonical] of Object.entries(config.statusMap ?? {})) {
    if (configured.trim().toLowerCase() === name) return canonical;
  }
  return defaultStatusMap[name] ?? categoryStatus[status.statusCategory?.key ?? ""] ?? "open";
}

export function toExternalTask(config: JiraConfig, issue: JiraIssue, fallbackStatus: JiraStatus = { name: "To Do" }): ExternalTask {
  const status = issue.fields?.status ?? fallbackStatus;
  return {
    externalId: String(issue.id),
    externalKey: issue.key,
    url: `${config.baseUrl}/browse/${issue.key}`,
    status: canonicalStatus(config, status),
    externalStatus: status.name,
  };
}

/** The transition to take for a canonical status: by configured name (transition or target), else by target's canonical status. */
export function pickTransition(
  config: JiraConfig,
  transitions: readonly JiraTransition[],
  status: TaskStatus,
): JiraTransition | undefined {
  const wanted = status === "done" ? config.doneTransition : status === "in_progress" ? config.inProgressTransition : undefined;
  const same = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();
  if (wanted) {
    const byName = transitions.find((t) => same(t.name, wanted)) ?? transitions.find((t) => same(t.to.name, wanted));
    if (byName) return byName;
  }
  return transitions.find((t) => canonicalStatus(config, t.to) === status);
}

/** A JQL string literal. */
export const jqlString = (value: string): string => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
