import { describe, expect, it } from "vitest";
import { describeConnectorContract, sampleDraft, testContext } from "../../connectors/sdk/contract.js";
import { basicAuth } from "../../connectors/sdk/http.js";
import type { ServiceNowConfig } from "../../connectors/servicenow/config.js";
import { businessRuleCall, fakeCredentials, startServiceNowFake } from "../../connectors/servicenow/fixtures/fake.js";
import { serviceNowConnector } from "../../connectors/servicenow/index.js";

const inboundToken = "sn-inbound-token-0123456789";

const configFor = (baseUrl: string): ServiceNowConfig =>
  serviceNowConnector.configSchema.parse({ instanceUrl: baseUrl, ...fakeCredentials, inboundToken });

describeConnectorContract<ServiceNowConfig>("servicenow", {
  connector: serviceNowConnector,
  startFake: () => startServiceNowFake(),
  config: (fake) => configFor(fake.baseUrl),
  requiredField: "instanceUrl",
  webhook: (config, sysId, state) => businessRuleCall(config.inboundToken, sysId, state),
  statusNames: { inProgress: "2", done: "6" },
  expect: {
    createRequest: { method: "POST", path: "/api/now/table/incident" },
    authHeader: (config) => ({ name: "authorization", value: basicAuth(config.username, config.password) }),
    signatureHeader: "x-plantgraph-signature",
  },
});

describe("servicenow specifics", () => {
  const ctx = testContext();

  it("creates an incident with urgency/impact, the key in correlation_id and a nav_to link", async () => {
    const fake = await startServiceNowFake();
    try {
      const config = { ...configFor(fake.baseUrl), assignmentGroup: "Maintenance" };
      const task = await serviceNowConnector.createTask!(config, { ...sampleDraft(), priority: "critical" }, ctx);
      const sent = fake.requests.find((r) => r.method === "POST");
      expect(sent?.body).toMatchObject({
        short_description: sampleDraft().title,
        correlation_id: sampleDraft().key,
        urgency: "1",
        impact: "1",
        assignment_group: "Maintenance",
      });
      expect(task).toMatchObject({ externalKey: "INC0010001", status: "open", externalStatus: "1" });
      expect(task.url).toBe(`${fake.baseUrl}/nav_to.do?uri=incident.do?sys_id=${task.externalId}`);
    } finally {
      await fake.close();
    }
  });

  it("resolving sends close_code and close_notes, which the instance's data policy requires", async () => {
    const fake = await startServiceNowFake();
    try {
      const config = configFor(fake.baseUrl);
      const task = await serviceNowConnector.createTask!(config, sampleDraft(), ctx);
      await serviceNowConnector.updateTask!(config, { externalId: task.externalId, status: "done", comment: "Coolant refilled" }, ctx);
      expect(fake.requests.at(-1)?.body).toEqual({
        state: "6",
        work_notes: "Coolant refilled",
        close_code: "Solution provided",
        close_notes: "Coolant refilled",
      });
    } finally {
      await fake.close();
    }
  });

  it("an inbound call with another token, or a state outside the map, yields nothing", () => {
    const config = configFor("https://example.service-now.com");
    const call = businessRuleCall(inboundToken, "abc", "2");
    expect(serviceNowConnector.verifyWebhook!(config, call, ctx)).toBe(true);
    const otherToken = { ...call, headers: { ...call.headers, authorization: `Bearer ${inboundToken}x` } };
    expect(serviceNowConnector.verifyWebhook!(config, otherToken, ctx)).toBe(false);
    expect(serviceNowConnector.parseWebhook!(config, businessRuleCall(inboundToken, "abc", "42"), ctx)).toEqual([]);
  });
});
