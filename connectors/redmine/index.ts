import { ConnectorError, defineConnector } from "../sdk/index.js";
import type { ConnectorContext, StatusChange } from "../sdk/index.js";
import type { QueryValue } from "../sdk/http.js";
import { redmineRequest } from "./client.js";
import { redmineConfigSchema, redmineSecretKeys } from "./config.js";
import type { RedmineConfig } from "./config.js";
import {
  changeFromIssue,
  hasKey,
  issueFromDraft,
  issueId,
  issuePage,
  keyLine,
  oneIssue,
  statusIdFor,
  taskFromIssue,
} from "./mapping.js";
import type { Issue } from "./mapping.js";

/** Redmine answers at most 100 issues a page. */
const PAGE_SIZE = 100;
const POLL_IDS = 100;
const MAX_PAGES = 1_000;

/**
 * Redmine issues over the REST API. The idempotency key is a `plantgraph-key: <key>` line in the
 * description, found with the `description=~` filter (an older Redmine without that filter ignores
 * it and the exact line check still picks the right issue). Status comes back by polling.
 */
export const redmineConnector = defineConnector<RedmineConfig>({
  kind: "redmine",
  displayName: "Redmine",
  capabilities: { tasks: true, notify: false, webhook: false, poll: true },
  configSchema: redmineConfigSchema,
  secretKeys: redmineSecretKeys,
  // Redmine documents no limit; stay gentle with self-hosted instances.
  rateLimit: { max: 5, durationMs: 1_000 },

  async verifyConfig(config, ctx) {
    await redmineRequest(config, ctx, "GET", "/users/current.json");
  },

  async createTask(config, draft, ctx) {
    const response = await redmineRequest(config, ctx, "POST", "/issues.json", {
      json: issueFromDraft(config, draft, (msg) => ctx.log.warn({ kind: "redmine" }, msg)),
    });
    return taskFromIssue(config, oneIssue.parse(response.body).issue);
  },

  async updateTask(config, update, ctx) {
    const path = `/issues/${issueId(update.externalId)}.json`;
    const issue: Record<string, unknown> = {};
    if (update.status !== undefined) issue.status_id = statusIdFor(config, update.status);
    if (update.comment) issue.notes = update.comment;
    // 204 No Content (200 on Redmine before 4.x): read the issue back for its status.
    await redmineRequest(config, ctx, "PUT", path, { json: { issue } });
    const task = taskFromIssue(config, oneIssue.parse((await redmineRequest(config, ctx, "GET", path)).body).issue);
    if (update.status !== undefined && task.status !== update.status) {
      // Redmine silently drops a status_id its workflow does not allow for the API user.
      throw new ConnectorError(
        "rejected",
        `redmine: issue ${update.externalId} stayed "${task.externalStatus}"; the workflow does not allow status ${update.status} for this user`,
      );
    }
    return task;
  },

  async findTask(config, key, ctx) {
    const query = { project_id: config.projectId, status_id: "*", description: `~${keyLine(key)}`, sort: "id" };
    for await (const issue of listIssues(config, ctx, query)) {
      if (hasKey(issue, key)) return taskFromIssue(config, issue);
    }
    return undefined;
  },

  async poll(config, input, ctx) {
    const known = new Map(input.tasks.map((task) => [task.externalId, task.status]));
    const ids = [...known.keys()].filter((id) => /^\d+$/.test(id));
    const changes: StatusChange[] = [];
    for (let i = 0; i < ids.length; i += POLL_IDS) {
      const query: Record<string, QueryValue> = { issue_id: ids.slice(i, i + POLL_IDS).join(","), status_id: "*", sort: "id" };
      if (input.since) query.updated_on = `>=${new Date(input.since).toISOString().slice(0, 19)}Z`;
      for await (const issue of listIssues(config, ctx, query)) {
        const change = changeFromIssue(config, issue, ctx.now());
        if (change.status !== known.get(change.externalId)) changes.push(change);
      }
    }
    return changes;
  },
});

/** Every issue of a `GET /issues.json` query, page by page (`offset`/`limit` until `total_count`). */
async function* listIssues(config: RedmineConfig, ctx: ConnectorContext, query: Record<string, QueryValue>): AsyncGenerator<Issue> {
  let offset = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = await redmineRequest(config, ctx, "GET", "/issues.json", { query: { ...query, offset, limit: PAGE_SIZE } });
    const { issues, total_count } = issuePage.parse(response.body);
    yield* issues;
    offset += issues.length;
    if (issues.length === 0 || offset >= total_count) return;
  }
  ctx.log.warn({ kind: "redmine", pages: MAX_PAGES }, "redmine issue list stopped at the page limit");
}
