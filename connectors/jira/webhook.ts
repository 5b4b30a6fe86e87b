import { header, verifyHmacSha256Hex, type StatusChange, type WebhookRequest } from "../sdk/index.js";
import type { JiraConfig } from "./config.js";
import { canonicalStatus, type JiraStatus } from "./mapping.js";

/** Admin webhooks saved with a secret carry `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. */
export const JIRA_SIGNATURE_HEADER = "x-hub-signature";

export function verifyJiraWebhook(config: JiraConfig, request: WebhookRequest): boolean {
  return verifyHmacSha256Hex(config.webhookSecret, header(request, JIRA_SIGNATURE_HEADER), request.body, "sha256=");
}

interface JiraIssueEvent {
  readonly webhookEvent?: string;
  readonly timestamp?: number;
  readonly user?: { readonly accountId?: string; readonly displayName?: string };
  readonly issue?: { readonly id?: string | number; readonly fields?: { readonly status?: JiraStatus } };
  readonly changelog?: {
    readonly items?: readonly { readonly field?: string; readonly fieldId?: string; readonly to?: string; readonly toString?: string }[];
  };
}

/** `jira:issue_updated` with a `status` changelog item → one change; every other event → []. */
export function parseJiraWebhook(config: JiraConfig, request: WebhookRequest, now: Date): StatusChange[] {
  let event: JiraIssueEvent;
  try {
    event = JSON.parse(request.body.toString("utf8")) as JiraIssueEvent;
  } catch {
    return [];
  }
  if (event.webhookEvent !== "jira:issue_updated" || event.issue?.id === undefined) return [];
  const externalId = String(event.issue.id);
  const current = event.issue.fields?.status;
  const at = new Date(typeof event.timestamp === "number" ? event.timestamp : now.getTime()).toISOString();
  const actor = event.user?.displayName ?? event.user?.accountId;
  return (event.changelog?.items ?? [])
    .filter((item) => (item.fieldId ?? item.field) === "status" && typeof item.toString === "string")
    .map((item) => {
      const name = item.toString as string;
      // The issue's own status carries its category, which helps when the name is not mapped.
      const status: JiraStatus = current && current.name === name ? current : { name };
      return { externalId, status: canonicalStatus(config, status), externalStatus: name, at, ...(actor ? { actor } : {}) };
    });
}
