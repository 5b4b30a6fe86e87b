/**
 * Where the real services of the test run live. Tests take these from the environment (CI points
 * them elsewhere); the defaults match a developer machine running the services locally.
 */

function fromEnv(name: string, fallback: string): string {
  const value = process.env[name]?.trim();
  return value ? value : fallback;
}

export const TEST_POSTGRES_URL = fromEnv("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres");
export const TEST_REDIS_URL = fromEnv("TEST_REDIS_URL", "redis://127.0.0.1:6379");
export const TEST_MQTT_URL = fromEnv("TEST_MQTT_URL", "mqtt://127.0.0.1:1883");
