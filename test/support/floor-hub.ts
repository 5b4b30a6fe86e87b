import { randomBytes } from "node:crypto";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { createApiKey } from "../../src/auth/api-key.service.js";
import type { AccessRole } from "../../src/auth/identity.js";
import { parseConfig } from "../../src/config.js";
import { startHub, type Hub } from "../../src/hub.js";
import { createLogger } from "../../src/log/logger.js";
import { createTestDatabase, type TestDatabase } from "./database.js";
import { graphql } from "./graphql.js";
import { TEST_MQTT_URL } from "./services.js";

/**
 * A hub serving ingest and api on its own database against the real Mosquitto, with the plant of
 * `plantYaml` applied, and API keys made on demand. No Redis: events stay in the process.
 */
export interface FloorHub {
  testDb: TestDatabase;
  hub: Hub;
  /** A GraphQL call as a holder of a fresh key of `role` (all sites). */
  as(role: AccessRole): Promise<<T = Record<string, any>>(query: string, variables?: Record<string, unknown>) => Promise<{ data?: T; errors?: { message: string }[] }>>;
  query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export async function startFloorHub(label: string, plantYaml: string, env: Record<string, string> = {}): Promise<FloorHub> {
  const testDb = await createTestDatabase(label);
  const log = createLogger(process.env.PIPELINE_LOG ?? "silent");
  let hub: Hub | undefined;
  try {
    await applyPlantText(testDb.database, plantYaml, "plant.yaml", log);
    hub = await startHub({
      config: parseConfig({
        NODE_ENV: "test",
        DATABASE_URL: testDb.url,
        MQTT_URL: TEST_MQTT_URL,
        MQTT_CLIENT_ID: `${label}-${randomBytes(4).toString("hex")}`,
        MQTT_SESSION_EXPIRY_SECONDS: "10",
        PORT: "0",
        SIMULATOR: "false",
        LOG_LEVEL: "silent",
        ...env,
      }),
      roles: ["ingest", "api"],
      log,
    });
  } catch (error) {
    await hub?.stop();
    await testDb.drop();
    throw error;
  }
  const started = hub;
  return {
    testDb,
    hub: started,
    async as(role) {
      const { key } = await createApiKey(testDb.database.db, { name: `${role}-${randomBytes(3).toString("hex")}`, role, sites: null, createdBy: "test" });
      return (query, variables = {}) => graphql(started.graphqlUrl!, query, variables, key);
    },
    async query(sql, params = []) {
      return (await testDb.database.query(sql, params)).rows as never;
    },
    async stop() {
      await started.stop();
      await testDb.drop();
    },
  };
}
