import { describe, expect, it } from "vitest";
import { describeConnectorContract, sampleNotification, testContext } from "../../connectors/sdk/contract.js";
import type { TeamsConfig } from "../../connectors/teams/config.js";
import { fakeWorkflowPath, fakeWorkflowQuery, startTeamsFake } from "../../connectors/teams/fixtures/fake.js";
import { teamsConnector } from "../../connectors/teams/index.js";

const configFor = (baseUrl: string, query = fakeWorkflowQuery): TeamsConfig =>
  teamsConnector.configSchema.parse({ webhookUrl: `${baseUrl}${fakeWorkflowPath}${query}`, allowInsecureUrl: true });

describeConnectorContract<TeamsConfig>("teams", {
  connector: teamsConnector,
  startFake: () => startTeamsFake(),
  config: (fake) => configFor(fake.baseUrl),
  requiredField: "webhookUrl",
  expect: {
    notifyRequest: { method: "POST", path: fakeWorkflowPath },
    authHeader: () => undefined, // the URL's sig is the secret
  },
});

describe("teams specifics", () => {
  const ctx = testContext();

  it("accepts Workflows hosts over https, loopback only with allowInsecureUrl", () => {
    const parse = (webhookUrl: string, allowInsecureUrl?: boolean) => teamsConnector.configSchema.safeParse({ webhookUrl, allowInsecureUrl }).success;
    expect(parse("https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x")).toBe(true);
    expect(parse("https://default1234.56.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc")).toBe(true);
    expect(parse("https://contoso.webhook.office.com/webhookb2/abc")).toBe(false);
    expect(parse("http://localhost:9/workflows/abc", true)).toBe(true);
    expect(parse("https://evil.example/workflows/abc", true)).toBe(false);
  });

  it("posts one Adaptive Card 1.4 with title, text, facts and an OpenUrl action, which the flow run posts", async () => {
    const fake = await startTeamsFake();
    try {
      await teamsConnector.notify!(configFor(fake.baseUrl), sampleNotification, ctx);
      const body = fake.requests[0]?.body as { type: string; attachments: { contentType: string; content: Record<string, unknown> }[] };
      expect(body.type).toBe("message");
      const card = body.attachments[0]!.content as { version: string; body: { type: string; facts?: unknown }[]; actions: unknown[] };
      expect(card.version).toBe("1.4");
      expect(card.body.map((b) => b.type)).toEqual(["TextBlock", "TextBlock", "FactSet", "TextBlock"]);
      expect(card.body[2]?.facts).toContainEqual({ title: "value", value: "96 bar" });
      expect(card.actions).toEqual([{ type: "Action.OpenUrl", title: "Open in plantgraph", url: sampleNotification.link }]);
      expect(fake.runs).toEqual([{ posted: 1 }]);
    } finally {
      await fake.close();
    }
  });

  it("verifyConfig's probe posts nothing, and a wrong sig is an auth error", async () => {
    const fake = await startTeamsFake();
    try {
      await teamsConnector.verifyConfig(configFor(fake.baseUrl), ctx);
      expect(fake.runs).toEqual([{ posted: 0 }]);
      const wrong = configFor(fake.baseUrl, "?api-version=1&sv=1.0&sig=wrong");
      await expect(teamsConnector.notify!(wrong, sampleNotification, ctx)).rejects.toMatchObject({ kind: "auth" });
    } finally {
      await fake.close();
    }
  });
});
