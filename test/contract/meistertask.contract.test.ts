import { describe, expect, it } from "vitest";
import { MEISTERTASK_FAKE, startMeisterTaskFake } from "../../connectors/meistertask/fixtures/fake.js";
import { meisterTaskConfigSchema, type MeisterTaskConfig } from "../../connectors/meistertask/config.js";
import { meisterTaskConnector } from "../../connectors/meistertask/index.js";
import { describeConnectorContract, sampleDraft, testContext } from "../../connectors/sdk/contract.js";
import type { ToolFake } from "../../connectors/sdk/fake.types.js";

const PAGE = 2;
const config = (fake: ToolFake): MeisterTaskConfig => meisterTaskConfigSchema.parse({ baseUrl: fake.baseUrl, ...MEISTERTASK_FAKE });

describeConnectorContract<MeisterTaskConfig>("meistertask", {
  connector: meisterTaskConnector,
  startFake: () => startMeisterTaskFake({ pageSize: PAGE }),
  config,
  requiredField: "apiToken",
  statusNames: { inProgress: "In Progress", done: "completed" },
  expect: {
    createRequest: { method: "POST", path: `/api/sections/${MEISTERTASK_FAKE.sectionId}/tasks` },
    authHeader: (c) => ({ name: "authorization", value: `Bearer ${c.apiToken}` }),
    pollPageSize: PAGE,
  },
});

describe("meistertask specifics", () => {
  const ctx = testContext();

  it("defaults the base URL and takes ids as numbers or digit strings", () => {
    const parsed = meisterTaskConfigSchema.parse({ apiToken: "t", projectId: 100, sectionId: "201" });
    expect(parsed).toMatchObject({ baseUrl: "https://www.meistertask.com", projectId: "100", sectionId: "201" });
    expect(meisterTaskConfigSchema.safeParse({ apiToken: "t", projectId: "abc", sectionId: "201" }).success).toBe(false);
  });

  it("completes a task into the done column and puts the key on the last line of the notes", async () => {
    const fake = await startMeisterTaskFake();
    try {
      const c = config(fake);
      const task = await meisterTaskConnector.createTask!(c, sampleDraft(), ctx);
      const created = fake.requests.find((r) => r.method === "POST")!.body as { notes: string };
      expect(created.notes.split("\n").at(-1)).toBe(`plantgraph-key: ${sampleDraft().key}`);
      await meisterTaskConnector.updateTask!(c, { externalId: task.externalId, status: "done" }, ctx);
      expect(fake.requests.at(-1)).toMatchObject({ method: "PUT", url: `/api/tasks/${task.externalId}`, body: { status: 2, section_id: 203 } });
      expect(fake.tasks.get(Number(task.externalId))).toMatchObject({ status: 2, section_name: "Done" });
    } finally {
      await fake.close();
    }
  });

  it("rejects a move to in progress when no in-progress column is configured", async () => {
    const fake = await startMeisterTaskFake();
    try {
      const { inProgressSectionId: _none, ...rest } = config(fake);
      await expect(meisterTaskConnector.updateTask!(rest, { externalId: "1", status: "in_progress" }, ctx)).rejects.toMatchObject({ kind: "rejected" });
    } finally {
      await fake.close();
    }
  });

  it("reports a tracked task that was deleted in the tool as cancelled", async () => {
    const fake = await startMeisterTaskFake();
    try {
      const c = config(fake);
      const task = await meisterTaskConnector.createTask!(c, sampleDraft(), ctx);
      fake.tasks.delete(Number(task.externalId));
      const changes = await meisterTaskConnector.poll!(c, { tasks: [{ externalId: task.externalId, status: "open" }] }, ctx);
      expect(changes).toMatchObject([{ externalId: task.externalId, status: "cancelled" }]);
    } finally {
      await fake.close();
    }
  });
});
