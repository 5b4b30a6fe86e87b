import { z } from "zod";
import { taskPriorities, taskStatuses } from "../sdk/index.js";

/**
 * A Redmine integration: the REST API (enabled under Administration → Settings → API) with a
 * user's API key in `X-Redmine-API-Key`. Status ids default to Redmine's default data (New 1,
 * In Progress 2, Resolved 3, Feedback 4, Closed 5, Rejected 6; priorities Low 1 … Urgent 4).
 */
export const defaultStatusMap = {
  New: "open",
  "In Progress": "in_progress",
  Feedback: "in_progress",
  Resolved: "done",
  Closed: "done",
  Rejected: "cancelled",
} as const;

const id = z.coerce.number().int().positive();

export const redmineConfigSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, "")),
  apiKey: z.string().min(1),
  /** Numeric id or identifier of the project new issues go to. */
  projectId: z.union([z.number().int().positive(), z.string().min(1)]),
  trackerId: id.optional(),
  /** Canonical priority → Redmine priority id; a priority left out takes Redmine's default. */
  priorityMap: z.partialRecord(z.enum(taskPriorities), id).default({ low: 1, medium: 2, high: 3, critical: 4 }),
  /** Redmine status name → canonical status. */
  statusMap: z.record(z.string().min(1), z.enum(taskStatuses)).default(defaultStatusMap),
  openStatusId: id.default(1),
  inProgressStatusId: id.default(2),
  doneStatusId: id.default(3),
  cancelledStatusId: id.default(6),
});

export type RedmineConfig = z.infer<typeof redmineConfigSchema>;

export const redmineSecretKeys = ["apiKey"] as const;
