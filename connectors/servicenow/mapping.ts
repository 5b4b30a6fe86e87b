import { z } from "zod";
import { ConnectorError } from "../sdk/index.js";
import type { ExternalTask, StatusChange, TaskDraft, TaskPriority, TaskStatus, TaskUpdate } from "../sdk/index.js";
import type { ServiceNowConfig } from "./config.js";

/** The incident fields the connector reads back (`sysparm_fields`). */
export const incidentFields = ["sys_id", "number", "state", "sys_updated_on", "sys_updated_by"] as const;

export const incidentSchema = z.object({
  sys_id: z.string().min(1),
  number: z.string().optional(),
  state: z.union([z.string(), z.number()]).transform(String),
  sys_updated_on: z.string().optional(),
  sys_updated_by: z.string().optional(),
});
export type Incident = z.infer<typeof incidentSchema>;

/** ServiceNow derives priority from impact × urgency (1 high, 2 medium, 3 low). */
const impactUrgency: Record<TaskPriority, { impact: string; urgency: string }> = {
  critical: { impact: "1", urgency: "1" }, // priority 1 Critical
  high: { impact: "1", urgency: "2" }, // priority 2 High
  medium: { impact: "2", urgency: "2" }, // priority 3 Moderate
  low: { impact: "2", urgency: "3" }, // priority 4 Low
};

/** `short_description` is a 160-character field on a stock instance. */
const SHORT_DESCRIPTION_MAX = 160;

export function incidentFromDraft(config: ServiceNowConfig, draft: TaskDraft): Record<string, string> {
  const extra = [
    draft.labels.length > 0 ? `Labels: ${draft.labels.join(", ")}` : undefined,
    draft.link ? `Link: ${draft.link}` : undefined,
  ].filter((line): line is string => line !== undefined);
  return {
    short_description: truncate(draft.title, SHORT_DESCRIPTION_MAX),
    description: [draft.description, ...extra].join("\n\n"),
    correlation_id: draft.key,
    correlation_display: "plantgraph",
    ...impactUrgency[draft.priority],
    ...(config.assignmentGroup ? { assignment_group: config.assignmentGroup } : {}),
    ...(config.callerId ? { caller_id: config.callerId } : {}),
    ...(draft.assignee ? { assigned_to: draft.assignee } : {}),
    ...(draft.dueDate ? { due_date: `${draft.dueDate} 00:00:00` } : {}),
  };
}

/** The PATCH body for an update: state (with the resolution fields the instance requires), work notes. */
export function incidentPatch(config: ServiceNowConfig, update: TaskUpdate): Record<string, string> {
  const body: Record<string, string> = {};
  if (update.comment) body.work_notes = update.comment;
  if (update.status !== undefined) {
    body.state = stateFor(config, update.status);
    if (update.status === "done") {
      body.close_code = config.closeCode;
      body.close_notes = update.comment ?? "Resolved from plantgraph.";
    }
  }
  return body;
}

/** The first incident state the status map sends to `status` (New, In Progress, Resolved, Canceled by default). */
export function stateFor(config: ServiceNowConfig, status: TaskStatus): string {
  const entry = Object.entries(config.statusMap).find(([, mapped]) => mapped === status);
  if (!entry) throw new ConnectorError("rejected", `servicenow: no incident state is mapped to status ${status}`);
  return entry[0];
}

export function statusOf(config: ServiceNowConfig, state: string): TaskStatus | undefined {
  return config.statusMap[state];
}

export function incidentUrl(config: ServiceNowConfig, sysId: string): string {
  return `${config.instanceUrl}/nav_to.do?uri=incident.do?sys_id=${sysId}`;
}

export function taskFromIncident(config: ServiceNowConfig, incident: Incident): ExternalTask {
  const status = statusOf(config, incident.state);
  if (status === undefined) {
    throw new ConnectorError("rejected", `servicenow: incident state ${incident.state} is not in the status map`);
  }
  return {
    externalId: incident.sys_id,
    ...(incident.number ? { externalKey: incident.number } : {}),
    url: incidentUrl(config, incident.sys_id),
    status,
    externalStatus: incident.state,
  };
}

/** A status change, or undefined when the state is not mapped (the hub ignores it). */
export function changeFromIncident(config: ServiceNowConfig, incident: Incident, seenAt: Date): StatusChange | undefined {
  const status = statusOf(config, incident.state);
  if (status === undefined) return undefined;
  return {
    externalId: incident.sys_id,
    status,
    externalStatus: incident.state,
    ...(incident.sys_updated_by ? { actor: incident.sys_updated_by } : {}),
    at: isoFromGlide(incident.sys_updated_on) ?? seenAt.toISOString(),
  };
}

/** `2024-05-01 13:45:10` (Table API, integration user in UTC) → ISO; ISO input passes through. */
export function isoFromGlide(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(value);
  if (!match) return undefined;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(value);
  const at = new Date(hasZone ? value : `${match[1]}T${match[2]}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** ISO → `2024-05-01 13:45:10` (UTC, whole seconds), the form encoded queries compare against. */
export function glideFromIso(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace("T", " ");
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
