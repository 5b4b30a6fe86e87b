import { describe, expect, it } from "vitest";
import { describeConnectorContract, sampleNotification, testContext } from "../../connectors/sdk/contract.js";
import type { SlackConfig } from "../../connectors/slack/config.js";
import { fakeHookPath, startSlackFake } from "../../connectors/slack/fixtures/fake.js";
import { slackConnector } from "../../connectors/slack/index.js";

const configFor = (baseUrl: string, path = fakeHookPath): SlackConfig =>
  slackConnector.configSchema.parse({ webhookUrl: `${baseUrl}${path}`, allowInsecureUrl: true });

describeConnectorContract<SlackConfig>("slack", {
  connector: slackConnector,
  startFake: () => startSlackFake(),
  config: (fake) => configFor(fake.baseUrl),
  requiredField: "webhookUrl",
  expect: {
    notifyRequest: { method: "POST", path: fakeHookPath },
    authHeader: () => undefined, // the URL is the secret
  },
});

describe("slack specifics", () => {
  const ctx = testContext();

  it("accepts only hooks.slack.com, and loopback only with allowInsecureUrl", () => {
    const parse = (webhookUrl: string, allowInsecureUrl?: boolean) => slackConnector.configSchema.safeParse({ webhookUrl, allowInsecureUrl }).success;
    expect(parse("https://hooks.slack.com/services/T1/B2/abc")).toBe(true);
    expect(parse("http://hooks.slack.com/services/T1/B2/abc")).toBe(false);
    expect(parse("https://evil.example/services/T1/B2/abc", true)).toBe(false);
    expect(parse("http://127.0.0.1:9/services/T1/B2/abc")).toBe(false);
    expect(parse("http://127.0.0.1:9/services/T1/B2/abc", true)).toBe(true);
  });

  it("posts text plus header, section, fields, context and a link button", async () => {
    const fake = await startSlackFake();
    try {
      await slackConnector.notify!(configFor(fake.baseUrl), sampleNotification, ctx);
      const body = fake.requests[0]?.body as { text: string; blocks: { type: string }[] };
      expect(body.text).toContain(sampleNotification.title);
      expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context", "actions"]);
      expect(JSON.stringify(body.blocks[4])).toContain(sampleNotification.link);
    } finally {
      await fake.close();
    }
  });

  it("maps Slack's text answers: a revoked hook is not_found, an archived channel is rejected", async () => {
    const fake = await startSlackFake();
    try {
      const gone = await slackConnector.notify!(configFor(fake.baseUrl, "/services/T9/B9/x"), sampleNotification, ctx).catch((e: unknown) => e);
      expect(gone).toMatchObject({ kind: "not_found", message: expect.stringContaining("no_service") });
      expect(String((gone as Error).message)).not.toContain("/services/");
      fake.failNext(410, { body: "channel_is_archived" });
      const archived = await slackConnector.notify!(configFor(fake.baseUrl), sampleNotification, ctx).catch((e: unknown) => e);
      expect(archived).toMatchObject({ kind: "rejected", message: expect.stringContaining("channel_is_archived") });
      await expect(slackConnector.verifyConfig(configFor(fake.baseUrl, "/services/T0PLANT/B0GRAPH/wrong"), ctx)).rejects.toMatchObject({ kind: "auth" });
    } finally {
      await fake.close();
    }
  });
});
