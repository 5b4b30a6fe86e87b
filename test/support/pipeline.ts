import { randomBytes } from "node:crypto";
import { JIRA_FAKE_DEFAULTS } from "../../connectors/jira/fixtures/fake.js";
import { parseConfig, type Config } from "../../src/config.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { saveAutomation, type AutomationRow } from "../../src/automations/automation.service.js";
import type { AutomationSpec } from "../../src/automations/automation.schema.js";
import { createIntegration, type IntegrationSpec } from "../../src/integrations/integration.service.js";
import { saveRule, type RuleSpec } from "../../src/rules/rule.service.js";
import { createSecretBox } from "../../src/secrets/secret-box.js";
import { machineByPath } from "../../src/assets/asset.queries.js";
import { createLogger } from "../../src/log/logger.js";
import { createTestDatabase, type TestDatabase } from "./database.js";
import { connectPublisher } from "./hub-process.js";
import { oneMachinePath, oneMachinePlant } from "./plant.js";
import { TEST_REDIS_URL } from "./services.js";

/**
 * A plant of one machine with a temperature point, in its own database, with the env a hub needs
 * to run the alarm path against the real services (its own BullMQ prefix, a keyring).
 */
export interface PipelinePlant {
  testDb: TestDatabase;
  enterprise: string;
  machineId: number;
  topic: string;
  env: Record<string, string>;
  config(extra?: Record<string, string>): Config;
  adminKey: string;
  addRule(spec: Omit<RuleSpec, "machineId">): Promise<number>;
  addIntegration(spec: IntegrationSpec): Promise<number>;
  addAutomation(spec: AutomationSpec): Promise<AutomationRow>;
  /** A counter rule "batches" (10 parts a batch) on the temperature point: a handy event source. */
  addCounterRule(): Promise<CounterRule>;
  /** A Jira integration "plant-jira" pointing at a fake. */
  addJira(baseUrl: string, webhookSecret?: string): Promise<number>;
  publish(mqttUrl: string, values: readonly number[], startTs?: number, stepMs?: number): Promise<number>;
  count(sql: string, params?: unknown[]): Promise<number>;
}

export interface CounterRule {
  ruleId: number;
  machineId: number;
  dataPointId: number;
}

export const SECRETS_KEYS = `k1:${Buffer.alloc(32, 7).toString("base64")}`;
export const quietLog = () => createLogger(process.env.PIPELINE_LOG ?? "silent");

export async function setUpPipelinePlant(label: string, mqttUrl: string): Promise<PipelinePlant> {
  const enterprise = `${label}-${randomBytes(3).toString("hex")}`;
  const testDb = await createTestDatabase(label.replace(/-/g, "_"));
  const log = quietLog();
  await applyPlantText(testDb.database, oneMachinePlant(enterprise, "press-1", [{ name: "temperature", unit: "°C" }]), "plant.yaml", log);
  const machine = await machineByPath(testDb.database.db, oneMachinePath(enterprise, "press-1"));
  const env: Record<string, string> = {
    NODE_ENV: "test",
    DATABASE_URL: testDb.url,
    MQTT_URL: mqttUrl,
    MQTT_CLIENT_ID: `${enterprise}-hub`,
    REDIS_URL: TEST_REDIS_URL,
    JOBS_PREFIX: `test-${enterprise}`,
    SECRETS_KEYS,
    PORT: "0",
    SIMULATOR: "false",
    LOG_LEVEL: "silent",
    RECONCILE_EVERY_SECONDS: "2",
    RECONCILE_AFTER_SECONDS: "3",
    POLL_INTERVAL_SECONDS: "1",
  };
  const db = testDb.database.db;
  return {
    testDb,
    enterprise,
    machineId: machine!.id,
    topic: `${oneMachinePath(enterprise, "press-1")}/temperature`,
    env,
    config: (extra = {}) => parseConfig({ ...env, ...extra }),
    adminKey: (await createApiKey(db, { name: "pipeline-admin", role: "admin", sites: null, createdBy: "test" })).key,
    addRule: async (spec) => (await saveRule(db, { ...spec, machineId: machine!.id }, "test")).row.id,
    addIntegration: async (spec) => (await createIntegration(db, createSecretBox(SECRETS_KEYS), spec, { actor: "test" })).id,
    addAutomation: async (spec) => (await saveAutomation(db, spec, "test")).row,
    addCounterRule: async () => {
      const { row } = await saveRule(db, { machineId: machine!.id, dataPoint: "temperature", name: "batches", severity: "info", params: { kind: "counter", batchSize: 10 } }, "test");
      return { ruleId: row.id, machineId: row.machineId, dataPointId: row.dataPointId };
    },
    addJira: async (baseUrl, webhookSecret = "unused") =>
      (
        await createIntegration(db, createSecretBox(SECRETS_KEYS), {
          kind: "jira",
          name: "plant-jira",
          config: { baseUrl, email: JIRA_FAKE_DEFAULTS.email, projectKey: JIRA_FAKE_DEFAULTS.projectKey },
          secrets: { apiToken: JIRA_FAKE_DEFAULTS.apiToken, webhookSecret },
        }, { actor: "test" })
      ).id,
    publish: async (url, values, startTs = Date.now(), stepMs = 1_000) => {
      const client = await connectPublisher(url, `${enterprise}-pub-${randomBytes(2).toString("hex")}`);
      let ts = startTs;
      for (const value of values) {
        await client.publishAsync(`${oneMachinePath(enterprise, "press-1")}/temperature`, JSON.stringify({ value, ts: new Date(ts).toISOString() }), { qos: 1 });
        ts += stepMs;
      }
      await client.endAsync();
      return ts;
    },
    count: async (sql, params) => Number((await testDb.database.query<{ n: number }>(sql, params)).rows[0]!.n),
  };
}

/** The overheating rule the tests use: above 80 °C, back below 78. */
export const overheating = {
  dataPoint: "temperature",
  name: "overheating",
  severity: "critical",
  params: { kind: "threshold", condition: "above", limit: 80, hysteresis: 2 },
} as const satisfies Omit<RuleSpec, "machineId">;
