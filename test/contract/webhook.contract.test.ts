import { describe, expect, it } from "vitest";
import { describeConnectorContract, sampleDraft, sampleNotification, testContext } from "../../connectors/sdk/contract.js";
import type { WebhookConfig } from "../../connectors/webhook/config.js";
import { fakePath, fakeSecret, startWebhookFake, statusCallback } from "../../connectors/webhook/fixtures/fake.js";
import { webhookConnector } from "../../connectors/webhook/index.js";

const callbackSecret = "whsec-callback-0123456789";

const configFor = (baseUrl: string): WebhookConfig =>
  webhookConnector.configSchema.parse({ url: `${baseUrl}${fakePath}`, secret: fakeSecret, statusCallbackSecret: callbackSecret });

describeConnectorContract<WebhookConfig>("webhook", {
  connector: webhookConnector,
  startFake: () => startWebhookFake(),
  config: (fake) => configFor(fake.baseUrl),
  requiredField: "secret",
  webhook: (config, id, status) => statusCallback(config.statusCallbackSecret ?? config.secret, id, status),
  statusNames: { inProgress: "in_progress", done: "done" },
  expect: {
    createRequest: { method: "POST", path: fakePath },
    notifyRequest: { method: "POST", path: fakePath },
    // Each call carries its own timestamped signature; the fake verifies it (401 otherwise).
    authHeader: () => undefined,
    signatureHeader: "x-plantgraph-signature",
  },
});

describe("webhook specifics", () => {
  const ctx = testContext();

  it("signs every call over the exact body, sends the key header and the task.create payload", async () => {
    const fake = await startWebhookFake();
    try {
      await webhookConnector.createTask!(configFor(fake.baseUrl), sampleDraft(), ctx);
      const [sent] = fake.requests;
      expect(sent?.headers["x-plantgraph-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(sent?.headers["x-plantgraph-key"]).toBe(sampleDraft().key);
      expect(sent?.body).toMatchObject({ type: "task.create", key: sampleDraft().key, priority: "high", labels: ["plantgraph", "cnc"] });
    } finally {
      await fake.close();
    }
  });

  it("a receiver answering 202 without a body keeps our key as the task id", async () => {
    const fake = await startWebhookFake({ bodilessCreate: true });
    try {
      const task = await webhookConnector.createTask!(configFor(fake.baseUrl), sampleDraft(), ctx);
      expect(task).toEqual({ externalId: sampleDraft().key, status: "open", externalStatus: "open" });
      await webhookConnector.notify!(configFor(fake.baseUrl), sampleNotification, ctx);
    } finally {
      await fake.close();
    }
  });

  it("refuses a callback signed more than five minutes ago, or with the outbound secret", () => {
    const config = configFor("https://receiver.example");
    const old = statusCallback(callbackSecret, "T-1", "done", Math.floor(Date.now() / 1000) - 301);
    expect(webhookConnector.verifyWebhook!(config, old, ctx)).toBe(false);
    expect(webhookConnector.verifyWebhook!(config, statusCallback(fakeSecret, "T-1", "done"), ctx)).toBe(false);
  });

  it("maps the receiver's own status names through statusMap and ignores unknown ones", () => {
    const config = { ...configFor("https://receiver.example"), statusMap: { Erledigt: "done" as const } };
    expect(webhookConnector.parseWebhook!(config, statusCallback(callbackSecret, "T-1", "Erledigt"), ctx)).toMatchObject([
      { externalId: "T-1", status: "done", externalStatus: "Erledigt", actor: "line-lead" },
    ]);
    expect(webhookConnector.parseWebhook!(config, statusCallback(callbackSecret, "T-1", "Whatever"), ctx)).toEqual([]);
  });
});
