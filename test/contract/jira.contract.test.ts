import { describe, expect, it } from "vitest";
import { jiraConnector } from "../../connectors/jira/index.js";
import { JIRA_FAKE_DEFAULTS, jiraWebhookRequest, startJiraFake } from "../../connectors/jira/fixtures/fake.js";
import { toAdf, toCreateIssueBody } from "../../connectors/jira/mapping.js";
import { jiraConfigSchema, type JiraConfig } from "../../connectors/jira/config.js";
import { basicAuth } from "../../connectors/sdk/http.js";
import { describeConnectorContract, sampleDraft, testContext } from "../../connectors/sdk/contract.js";
import type { ToolFake } from "../../connectors/sdk/fake.types.js";

const config = (fake: ToolFake): JiraConfig =>
  jiraConfigSchema.parse({ baseUrl: fake.baseUrl, ...JIRA_FAKE_DEFAULTS, webhookSecret: "jira-webhook-secret-1" });

describeConnectorContract<JiraConfig>("jira", {
  connector: jiraConnector,
  startFake: () => startJiraFake(),
  config,
  requiredField: "apiToken",
  webhook: (c, externalId, externalStatus) => jiraWebhookRequest(c.webhookSecret, externalId, externalStatus),
  statusNames: { inProgress: "In Progress", done: "Done" },
  expect: {
    createRequest: { method: "POST", path: "/rest/api/3/issue" },
    authHeader: (c) => ({ name: "authorization", value: basicAuth(c.email, c.apiToken) }),
    signatureHeader: "x-hub-signature",
  },
});

describe("jira specifics", () => {
  const ctx = testContext();

  it("describes issues in Atlassian Document Format, one paragraph per line, the link marked", () => {
    expect(toAdf("Line one\n\nLine two", "https://hub.example/a")).toEqual({
      type: "doc",
      version: 1,
      content: [
        { type: "paragraph", content: [{ type: "text", text: "Line one" }] },
        { type: "paragraph", content: [{ type: "text", text: "Line two" }] },
        { type: "paragraph", content: [{ type: "text", text: "https://hub.example/a", marks: [{ type: "link", attrs: { href: "https://hub.example/a" } }] }] },
      ],
    });
  });

  it("maps labels without spaces, priority names, due date, and an assignee only when it is an accountId", () => {
    const c = jiraConfigSchema.parse({ baseUrl: "https://plant.atlassian.net/", ...JIRA_FAKE_DEFAULTS, webhookSecret: "s" });
    const draft = { ...sampleDraft(), labels: ["line 3", "cnc"], priority: "critical" as const };
    const { fields } = toCreateIssueBody(c, { ...draft, assignee: "someone@plant.example" });
    expect(fields).toMatchObject({ labels: ["line-3", "cnc", draft.key], priority: { name: "Highest" }, duedate: "2030-01-31" });
    expect(fields.assignee).toBeUndefined();
    expect(toCreateIssueBody(c, { ...draft, assignee: "5b10ac8d82e05b22cc7d4ef5" }).fields.assignee).toEqual({ accountId: "5b10ac8d82e05b22cc7d4ef5" });
    expect(c.baseUrl).toBe("https://plant.atlassian.net");
  });

  it("returns the browse URL and key, and transitions by name when transition ids and names differ from statuses", async () => {
    const fake = await startJiraFake();
    try {
      const c = config(fake);
      const task = await jiraConnector.createTask!(c, sampleDraft(), ctx);
      expect(task).toMatchObject({ externalKey: "MAINT-1", url: `${fake.baseUrl}/browse/MAINT-1`, externalStatus: "To Do" });
      await jiraConnector.updateTask!(c, { externalId: task.externalId, status: "in_progress" }, ctx);
      const posted = fake.requests.filter((r) => r.method === "POST" && r.url.endsWith("/transitions")).map((r) => r.body);
      // "Start work" (id 21) leads to "In Progress": matched by its target status name.
      expect(posted).toEqual([{ transition: { id: "21" } }]);
      const renamed = { ...c, doneTransition: "Close it" };
      await expect(jiraConnector.updateTask!(renamed, { externalId: task.externalId, status: "done" }, ctx)).resolves.toMatchObject({ status: "done" });
    } finally {
      await fake.close();
    }
  });

  it("searches with the enhanced JQL endpoint, quoting the key label", async () => {
    const fake = await startJiraFake();
    try {
      await jiraConnector.findTask!(config(fake), "pg-e1-1", ctx);
      const url = new URL(fake.requests.at(-1)!.url, fake.baseUrl);
      expect(url.pathname).toBe("/rest/api/3/search/jql");
      expect(url.searchParams.get("jql")).toBe('project = "MAINT" AND labels = "pg-e1-1" ORDER BY created ASC');
    } finally {
      await fake.close();
    }
  });

  it("ignores events other than status changes of jira:issue_updated", () => {
    const c = jiraConfigSchema.parse({ baseUrl: "https://plant.atlassian.net", ...JIRA_FAKE_DEFAULTS, webhookSecret: "s" });
    const body = Buffer.from(JSON.stringify({ webhookEvent: "jira:issue_updated", issue: { id: "1" }, changelog: { items: [{ field: "summary", toString: "x" }] } }));
    expect(jiraConnector.parseWebhook!(c, { headers: {}, body }, ctx)).toEqual([]);
    const created = Buffer.from(JSON.stringify({ webhookEvent: "jira:issue_created", issue: { id: "1" } }));
    expect(jiraConnector.parseWebhook!(c, { headers: {}, body: created }, ctx)).toEqual([]);
  });
});
