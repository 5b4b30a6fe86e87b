import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "../../src/db/database.js";
import { TEST_POSTGRES_URL } from "./services.js";

export interface TestDatabase {
  url: string;
  database: Database;
  /** Closes the pool and drops the database. Safe to call twice. */
  drop(): Promise<void>;
}

const MAX_IDENTIFIER = 63;

/**
 * A fresh, migrated PostgreSQL database of its own on the TEST_POSTGRES_URL server, so test files
 * running in parallel never see each other's rows. The name carries the label (to find leftovers
 * of a crashed run) and random bytes (so two files, or two runs, never collide). `migrate: false`
 * leaves it empty (a restore target).
 */
export async function createTestDatabase(label: string, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = testDatabaseName(label);
  await admin(`create database "${name}"`);

  const url = withDatabase(TEST_POSTGRES_URL, name);
  let database: Database | undefined;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await database?.close();
    await admin(`drop database if exists "${name}" with (force)`);
  };

  try {
    database = await openDatabase({ url, dataDir: "unused", poolSize: 4 });
    if (options.migrate !== false) await database.migrate();
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
  return { url, database, drop };
}

/** An in-memory PGlite database, migrated. The caller closes it. */
export async function createPgliteDatabase(): Promise<Database> {
  const database = await openDatabase({ dataDir: "memory://" });
  try {
    await database.migrate();
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  return database;
}

/** `pg_test_<label>_<random>`: lower-case letters, digits and `_` only, at most 63 characters. */
export function testDatabaseName(label: string): string {
  const random = randomBytes(6).toString("hex");
  const prefix = "pg_test_";
  const room = MAX_IDENTIFIER - prefix.length - 1 - random.length;
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, room)
    .replace(/_+$/, "");
  return `${prefix}${clean || "db"}_${random}`;
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** CREATE/DROP DATABASE cannot run inside a transaction or a pool's prepared session: one client each. */
async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
