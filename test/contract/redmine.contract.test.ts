import { describe, expect, it } from "vitest";
import { describeConnectorContract, sampleDraft, testContext } from "../../connectors/sdk/contract.js";
import type { RedmineConfig } from "../../connectors/redmine/config.js";
import { fakeApiKey, fakeProject, startRedmineFake } from "../../connectors/redmine/fixtures/fake.js";
import { redmineConnector } from "../../connectors/redmine/index.js";

const configFor = (baseUrl: string): RedmineConfig =>
  redmineConnector.configSchema.parse({ baseUrl, apiKey: fakeApiKey, projectId: fakeProject.identifier });

describeConnectorContract<RedmineConfig>("redmine", {
  connector: redmineConnector,
  startFake: () => startRedmineFake(),
  config: (fake) => configFor(fake.baseUrl),
  requiredField: "apiKey",
  statusNames: { inProgress: "In Progress", done: "Resolved" },
  expect: {
    createRequest: { method: "POST", path: "/issues.json" },
    authHeader: (config) => ({ name: "x-redmine-api-key", value: config.apiKey }),
  },
});

describe("redmine specifics", () => {
  const ctx = testContext();

  it("creates an issue with the key line, priority id and due date, and links to it", async () => {
    const fake = await startRedmineFake();
    try {
      const config = configFor(fake.baseUrl);
      const task = await redmineConnector.createTask!(config, { ...sampleDraft(), assignee: "12" }, ctx);
      const sent = fake.requests.find((r) => r.method === "POST")?.body as { issue: Record<string, unknown> };
      expect(sent.issue).toMatchObject({ project_id: "maintenance", subject: sampleDraft().title, priority_id: 3, due_date: "2030-01-31", assigned_to_id: 12 });
      expect(String(sent.issue.description)).toContain(`plantgraph-key: ${sampleDraft().key}`);
      expect(task).toMatchObject({ externalKey: `#${task.externalId}`, url: `${fake.baseUrl}/issues/${task.externalId}`, externalStatus: "New" });
    } finally {
      await fake.close();
    }
  });

  it("findTask does not take a task whose key merely starts with the one asked for", async () => {
    const fake = await startRedmineFake();
    try {
      const config = configFor(fake.baseUrl);
      await redmineConnector.createTask!(config, { ...sampleDraft(), key: "pg-e12-10" }, ctx);
      expect(await redmineConnector.findTask!(config, "pg-e12-1", ctx)).toBeUndefined();
    } finally {
      await fake.close();
    }
  });

  it("a 422 with Redmine's errors array is rejected with the message", async () => {
    const fake = await startRedmineFake();
    try {
      const error = await redmineConnector.createTask!(configFor(fake.baseUrl), { ...sampleDraft(), title: "" }, ctx).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: "rejected", message: expect.stringContaining("Subject cannot be blank") });
    } finally {
      await fake.close();
    }
  });
});
