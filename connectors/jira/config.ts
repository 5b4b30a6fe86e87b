import { z } from "zod";
import { taskStatuses } from "../sdk/index.js";

/** A Jira Cloud site, one project, Basic auth with an API token, and an admin webhook secret. */
export const jiraConfigSchema = z
  .object({
    /** https://<site>.atlassian.net */
    baseUrl: z.url().transform((url) => url.replace(/\/+$/, "")),
    email: z.email(),
    apiToken: z.string().min(1),
    projectKey: z.string().regex(/^[A-Z][A-Z0-9_]{1,9}$/, "a Jira project key such as MAINT"),
    issueType: z.string().min(1).default("Task"),
    /** The secret of the admin webhook (System > WebHooks), used for `X-Hub-Signature`. */
    webhookSecret: z.string().min(1),
    /** Jira status name → canonical status; merged over the defaults, matched case-insensitively. */
    statusMap: z.record(z.string().min(1), z.enum(taskStatuses)).optional(),
    /** The transition (or target status) name that completes an issue. */
    doneTransition: z.string().min(1).default("Done"),
    /** The transition (or target status) name that starts work on an issue. */
    inProgressTransition: z.string().min(1).default("In Progress"),
  })
  .strict();

export type JiraConfig = z.output<typeof jiraConfigSchema>;
