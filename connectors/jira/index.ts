import { ConnectorError, defineConnector, type ConnectorContext, type ExternalTask } from "../sdk/index.js";
import { jiraRequest } from "./client.js";
import { jiraConfigSchema, type JiraConfig } from "./config.js";
import { jqlString, pickTransition, toAdf, toCreateIssueBody, toExternalTask, toLabel, type JiraIssue, type JiraTransition } from "./mapping.js";
import { parseJiraWebhook, verifyJiraWebhook } from "./webhook.js";

const API = "/rest/api/3";

async function getIssue(config: JiraConfig, id: string, ctx: ConnectorContext): Promise<ExternalTask> {
  const { body } = await jiraRequest<JiraIssue>(config, ctx, {
    method: "GET",
    path: `${API}/issue/${encodeURIComponent(id)}`,
    query: { fields: "status" },
  });
  return toExternalTask(config, body);
}

/** Jira Cloud (REST v3): issues in one project, status by workflow transition, status back by admin webhook. */
export const jiraConnector = defineConnector<JiraConfig>({
  kind: "jira",
  displayName: "Jira Cloud",
  capabilities: { tasks: true, notify: false, webhook: true, poll: false },
  configSchema: jiraConfigSchema,
  secretKeys: ["apiToken", "webhookSecret"],
  // Jira Cloud's limits are cost-based and answered with 429 + Retry-After; stay well below them.
  rateLimit: { max: 10, durationMs: 1000 },

  async verifyConfig(config, ctx) {
    await jiraRequest(config, ctx, { method: "GET", path: `${API}/myself` });
  },

  async createTask(config, draft, ctx) {
    const { body } = await jiraRequest<{ id: string; key: string }>(config, ctx, {
      method: "POST",
      path: `${API}/issue`,
      json: toCreateIssueBody(config, draft),
    });
    return toExternalTask(config, body);
  },

  async findTask(config, key, ctx) {
    // The enhanced search (GET /search/jql) pages by nextPageToken; the first match is enough here.
    const { body } = await jiraRequest<{ issues?: JiraIssue[] }>(config, ctx, {
      method: "GET",
      path: `${API}/search/jql`,
      query: {
        jql: `project = ${jqlString(config.projectKey)} AND labels = ${jqlString(toLabel(key))} ORDER BY created ASC`,
        fields: "status",
        maxResults: 1,
      },
    });
    const issue = body.issues?.[0];
    return issue ? toExternalTask(config, issue) : undefined;
  },

  async updateTask(config, update, ctx) {
    const id = encodeURIComponent(update.externalId);
    if (update.status) {
      const { body } = await jiraRequest<{ transitions?: JiraTransition[] }>(config, ctx, {
        method: "GET",
        path: `${API}/issue/${id}/transitions`,
      });
      const transitions = body.transitions ?? [];
      const transition = pickTransition(config, transitions, update.status);
      if (transition) {
        await jiraRequest(config, ctx, { method: "POST", path: `${API}/issue/${id}/transitions`, json: { transition: { id: transition.id } } });
      } else if ((await getIssue(config, update.externalId, ctx)).status !== update.status) {
        const offered = transitions.map((t) => `${t.name} → ${t.to.name}`).join(", ") || "none";
        throw new ConnectorError("rejected", `Jira issue ${update.externalId}: no transition to ${update.status} (offered: ${offered})`);
      }
    }
    if (update.comment) {
      await jiraRequest(config, ctx, { method: "POST", path: `${API}/issue/${id}/comment`, json: { body: toAdf(update.comment) } });
    }
    return getIssue(config, update.externalId, ctx);
  },

  verifyWebhook: (config, request) => verifyJiraWebhook(config, request),
  parseWebhook: (config, request, ctx) => parseJiraWebhook(config, request, ctx.now()),
});
