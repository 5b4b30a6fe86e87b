import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { PoolConfig } from "pg";
import * as schema from "../../schema/db/index.js";

export type Schema = typeof schema;
/** The drizzle handle both drivers share; a transaction handle has the same query surface. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;

/** Raw SQL for the hot paths where drizzle's builder costs too much CPU. */
export interface RawQuery {
  <Row extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: unknown[],
    /** `name`: on PostgreSQL, each connection prepares the statement once and skips planning after (same text for a name). */
    options?: { name?: string },
  ): Promise<{ rows: Row[]; rowCount: number }>;
}

export interface Database {
  readonly kind: "postgres" | "pglite";
  readonly db: Db;
  readonly query: RawQuery;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Raw SQL inside a drizzle transaction, rows and affected count alike on both drivers
 * (node-postgres answers `rowCount`, PGlite `affectedRows`).
 */
export async function execute<Row extends Record<string, unknown> = Record<string, unknown>>(
  db: DbOrTx,
  query: SQL,
): Promise<{ rows: Row[]; rowCount: number }> {
  const result = (await db.execute(query)) as unknown as { rows: Row[]; rowCount?: number | null; affectedRows?: number };
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}

/** Migrations live beside package.json; resolved from the working directory so dist/ builds work. */
export function migrationsFolder(): string {
  return path.resolve(process.cwd(), "migrations");
}

export interface OpenDatabaseOptions {
  /** PostgreSQL when set, embedded PGlite otherwise. */
  url?: string;
  /** Where PGlite keeps its files; "memory://" keeps them in memory. */
  dataDir: string;
  poolSize?: number;
  /** TLS verified against this CA (DATABASE_CA_FILE), whatever the URL's sslmode says short of disable. */
  ssl?: { ca: Buffer };
  onError?: (error: Error) => void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options.dataDir);
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<Database> {
  const { default: pg } = await import("pg");
  const { drizzle } = await import("drizzle-orm/node-postgres");
  const { migrate } = await import("drizzle-orm/node-postgres/migrator");
  const pool = new pg.Pool({ ...postgresConnection(url, options.ssl), max: options.poolSize ?? 10 });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on("error", (error) => options.onError?.(error));
  const db = drizzle(pool, { schema }) as unknown as Db;
  return {
    kind: "postgres",
    db,
    query: async (text, params, options) => {
      const result = await pool.query({ text, values: params, name: options?.name });
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    ping: async () => {
      await pool.query("select 1");
    },
    migrate: () => migrate(db as never, { migrationsFolder: migrationsFolder() }),
    close: () => pool.end(),
  };
}

/**
 * pg lets a connection string's ssl parameters replace an `ssl` option wholesale, which would drop
 * the CA: with a CA given, sslmode and ssl leave the URL and the option alone decides.
 */
export function postgresConnection(url: string, ssl: OpenDatabaseOptions["ssl"]): PoolConfig {
  if (!ssl) return { connectionString: url };
  const [base, query = ""] = url.split(/\?(.*)/s);
  const params = new URLSearchParams(query);
  params.delete("sslmode");
  params.delete("ssl");
  const rest = params.toString();
  return { connectionString: rest ? `${base}?${rest}` : base!, ssl: { ca: ssl.ca, rejectUnauthorized: true } };
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  if (!dataDir.startsWith("memory://")) await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    kind: "pglite",
    db,
    query: async (text, params) => {
      const result = await client.query(text, params);
      return { rows: result.rows as never[], rowCount: result.affectedRows ?? result.rows.length };
    },
    ping: async () => {
      await client.query("select 1");
    },
    migrate: () => migrate(db as never, { migrationsFolder: migrationsFolder() }),
    close: () => client.close(),
  };
}

