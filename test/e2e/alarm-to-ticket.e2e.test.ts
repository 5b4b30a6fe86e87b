import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JIRA_FAKE_DEFAULTS, jiraWebhookRequest, startJiraFake } from "../../connectors/jira/fixtures/fake.js";
import { fakeHookPath, startSlackFake } from "../../connectors/slack/fixtures/fake.js";
import { globalId } from "../../src/graphql/relay/node.type.js";
import { startHub, type Hub } from "../../src/hub.js";
import { eventually, graphql } from "../support/graphql.js";
import { startPrivateMosquitto, type PrivateMosquitto } from "../support/mosquitto.js";
import { overheating, quietLog, setUpPipelinePlant, type PipelinePlant } from "../support/pipeline.js";

/**
 * The loop the product exists for, over real Mosquitto, Redis and PostgreSQL: an overheating
 * machine → exactly one Jira issue with the right fields → the technician starts it (webhook) →
 * machine in maintenance → done → alarm cleared; every step in the audit trail.
 */
describe("alarm to ticket and back", () => {
  const WEBHOOK_SECRET = "jira-hook-secret-e2e";
  let plant: PipelinePlant;
  let broker: PrivateMosquitto;
  let jira: Awaited<ReturnType<typeof startJiraFake>>;
  let slack: Awaited<ReturnType<typeof startSlackFake>>;
  let hub: Hub;
  let integrationId: number;
  let ruleId: number;

  const webhookUrl = () => new URL(`/webhooks/${integrationId}`, hub.graphqlUrl).toString();
  const sendWebhook = (request: { headers: Record<string, string | undefined>; body: Buffer }) =>
    fetch(webhookUrl(), { method: "POST", headers: request.headers as Record<string, string>, body: request.body });
  const alarm = async () =>
    (await plant.testDb.database.query<{ id: number; state: string; acknowledged_by: string | null; condition_active: boolean }>(
      "select id, state, acknowledged_by, condition_active from alarm where rule_id = $1",
      [ruleId],
    )).rows;
  const task = async () =>
    (await plant.testDb.database.query<{ id: number; status: string; external_id: string; external_key: string; url: string }>("select * from task")).rows[0];

  beforeAll(async () => {
    broker = await startPrivateMosquitto();
    plant = await setUpPipelinePlant("alarm-e2e", broker.url);
    jira = await startJiraFake();
    slack = await startSlackFake();
    await plant.addIntegration({ kind: "slack", name: "maintenance-channel", config: { allowInsecureUrl: true }, secrets: { webhookUrl: `${slack.baseUrl}${fakeHookPath}` } });
    ruleId = await plant.addRule({ ...overheating, params: { ...overheating.params, forSeconds: 2 } });
    integrationId = await plant.addIntegration({
      kind: "jira",
      name: "plant-jira",
      config: { baseUrl: jira.baseUrl, email: JIRA_FAKE_DEFAULTS.email, projectKey: JIRA_FAKE_DEFAULTS.projectKey },
      secrets: { apiToken: JIRA_FAKE_DEFAULTS.apiToken, webhookSecret: WEBHOOK_SECRET },
    });
    await plant.addAutomation({
      name: "overheating-ticket",
      trigger: "alarm.raised",
      conditions: { severities: ["critical"] },
      actions: [
        {
          type: "create_task",
          key: "ticket",
          integration: "plant-jira",
          title: "{{machine.name}}: {{event.message}}",
          description: "Machine {{machine.path}} raised {{rule.name}} (v{{rule.version}}) at {{event.at}}.",
          labels: ["overheating"],
          dueInHours: 24,
        },
        { type: "notify", key: "technician", integration: "maintenance-channel", title: "Overheating on {{machine.name}}", text: "{{event.message}}: ticket follows in Jira." },
      ],
    });
    hub = await startHub({ config: plant.config(), roles: ["ingest", "api", "worker"], log: quietLog() });
  });

  afterAll(async () => {
    await hub?.stop();
    await jira?.close();
    await slack?.close();
    await broker?.stop();
    await plant?.testDb.drop();
  });

  it("creates exactly one Jira issue for an overheating sequence, however it flaps", async () => {
    const start = Date.now() - 60_000;
    // Rises, holds above 80 for more than the 2 s confirmation, flaps inside the hysteresis band, cools down.
    await plant.publish(broker.url, [70, 75, 82, 84, 86, 87, 79, 81, 79, 83, 85, 70, 69], start);
    const created = await eventually(async () => ((await task()) ? task() : undefined), "the task row");
    expect(jira.requests.filter((r) => r.method === "POST" && r.url === "/rest/api/3/issue")).toHaveLength(1);
    const [issue] = [...jira.issues.values()];
    const fields = (issue as unknown as { fields: Record<string, any> }).fields;
    expect(fields.summary).toMatch(/^press-1: temperature 8\d(\.\d+)? above 80/);
    expect(fields.project).toEqual({ key: JIRA_FAKE_DEFAULTS.projectKey });
    expect(fields.labels).toEqual(expect.arrayContaining(["plantgraph", "overheating", expect.stringMatching(/^pg-e\d+-\d+-ticket$/)]));
    expect(JSON.stringify(fields.description)).toContain(`raised overheating (v1)`);
    expect(fields.duedate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(created).toMatchObject({ status: "open", external_key: "MAINT-1", url: `${jira.baseUrl}/browse/MAINT-1` });

    // Condition cleared (70, 69) while unacknowledged: the alarm stays active, returned to normal.
    await eventually(async () => ((await alarm())[0]?.condition_active === false ? true : undefined), "return to normal");
    expect((await alarm()).map((a) => a.state)).toEqual(["active"]);
    // One more excursion inside the flap window folds into the same alarm: no second issue.
    await plant.publish(broker.url, [88, 89, 90, 91, 70], Date.now() - 20_000);
    await eventually(async () => ((await plant.count("select raise_count as n from alarm where rule_id = $1", [ruleId])) >= 2 ? true : undefined), "the re-raise");
    expect(await alarm()).toHaveLength(1);
    expect(await plant.count("select count(*)::int as n from task")).toBe(1);
    // The technician was told once, on the channel.
    const posts = slack.requests.filter((r) => r.method === "POST" && r.url === fakeHookPath);
    expect(posts).toHaveLength(1);
    expect(JSON.stringify(posts[0]!.body)).toContain("Overheating on press-1");
  });

  it("refuses a webhook whose signature does not match, and records it", async () => {
    const { external_id } = (await task())!;
    const genuine = jiraWebhookRequest(WEBHOOK_SECRET, external_id, "In Progress");
    const tampered = { ...genuine, body: Buffer.from(genuine.body.toString("utf8").replace("In Progress", "In Pregress")) };
    expect((await sendWebhook(tampered)).status).toBe(401);
    expect(await plant.count("select count(*)::int as n from security_event where action = 'webhook.rejected'")).toBe(1);
    expect((await task())!.status).toBe("open");
  });

  it("puts the machine in maintenance when the issue moves to In Progress", async () => {
    const { external_id } = (await task())!;
    const response = await sendWebhook(jiraWebhookRequest(WEBHOOK_SECRET, external_id, "In Progress"));
    expect(response.status).toBe(202);
    await eventually(async () => ((await task())!.status === "in_progress" ? true : undefined), "task in progress");
    const { data, errors } = await graphql(hub.graphqlUrl!, `query($id: ID!) { machine(id: $id) { state } }`, { id: globalId("Machine", plant.machineId) }, plant.adminKey);
    expect(errors).toBeUndefined();
    expect(data?.machine?.state).toBe("MAINTENANCE");
    expect(await plant.count("select count(*)::int as n from event where kind = 'machine.state_changed' and detail->>'state' = 'maintenance'")).toBe(1);
    // The same delivery again is an echo: nothing changes twice.
    expect((await sendWebhook(jiraWebhookRequest(WEBHOOK_SECRET, external_id, "In Progress"))).status).toBe(202);
    await eventually(async () => ((await plant.count("select count(*)::int as n from webhook_delivery where status = 'applied'")) === 2 ? true : undefined), "second delivery applied");
    expect(await plant.count("select count(*)::int as n from audit_entry where action = 'task.status_changed'")).toBe(1);
  });

  it("clears the alarm when the issue is done, acknowledged by the person who closed it", async () => {
    const { external_id } = (await task())!;
    expect((await sendWebhook(jiraWebhookRequest(WEBHOOK_SECRET, external_id, "Done", "In Progress"))).status).toBe(202);
    await eventually(async () => ((await alarm())[0]?.state === "cleared" ? true : undefined), "alarm cleared");
    expect((await alarm())[0]!.acknowledged_by).toBe(`tool:${integrationId}:Mia Keller`);
    const { data } = await graphql(hub.graphqlUrl!, `query($id: ID!) { machine(id: $id) { state } }`, { id: globalId("Machine", plant.machineId) }, plant.adminKey);
    expect(data?.machine?.state).not.toBe("MAINTENANCE");
  });

  it("has every step in the audit trail, in order", async () => {
    const { rows } = await plant.testDb.database.query<{ action: string }>("select action from audit_entry order by id");
    const actions = rows.map((r) => r.action);
    const order = ["rule.created", "automation.created", "alarm.raised", "event.recorded", "task.created", "webhook.received", "task.status_changed", "alarm.acknowledged", "alarm.cleared", "event.recorded"];
    expect(actions).toEqual(expect.arrayContaining(["alarm.returned_to_normal", "alarm.reraised"]));
    let from = 0;
    for (const action of order) {
      const at = actions.indexOf(action, from);
      expect(at, `${action} after ${order[order.indexOf(action) - 1] ?? "start"}`).toBeGreaterThanOrEqual(from);
      from = at;
    }
    expect(actions.filter((a) => a === "task.created")).toHaveLength(1);
    // The rule's version rode along with the event it raised.
    expect(await plant.count("select count(*)::int as n from event where kind = 'alarm.raised' and rule_version = 1")).toBe(1);
  });
});
