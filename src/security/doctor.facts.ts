import type { Config } from "../config.js";
import { openDatabase } from "../db/database.js";
import { readDatabaseSsl, transportFileProblems } from "../tls/tls-files.js";
import { DEMO_KEY_NAME, type DoctorFacts } from "./doctor.js";

const UNDEFINED_TABLE = "42P01";
const ANSWER_TIMEOUT_MS = 5_000;

/** What `inspectConfiguration` cannot see in the configuration itself: the files and the database. */
export async function readDoctorFacts(config: Config): Promise<DoctorFacts> {
  const fileProblems = await transportFileProblems(config);
  return { fileProblems, ...(await readDatabaseFacts(config)) };
}

async function readDatabaseFacts(config: Config): Promise<Pick<DoctorFacts, "demoKeyActive" | "databaseUnchecked" | "unsecuredOpcuaEndpoints">> {
  const { url } = config.database;
  // PGlite admits one process: opening it beside a running demo hub could damage its files.
  if (!url) return { databaseUnchecked: "the embedded database (DATA_DIR) is not opened while a hub may be using it" };
  let ssl;
  try {
    ssl = await readDatabaseSsl(config);
  } catch {
    return { databaseUnchecked: "DATABASE_CA_FILE cannot be used (see above)" };
  }
  const database = await openDatabase({ url, dataDir: config.database.dataDir, ssl, poolSize: 1 });
  try {
    const { rows } = await withTimeout(
      database.query<{ active: boolean }>(
        "select exists (select 1 from api_key where name = $1 and revoked_at is null and (expires_at is null or expires_at > now())) as active",
        [DEMO_KEY_NAME],
      ),
    );
    const unsecured = await withTimeout(
      database.query<{ name: string }>("select name from opcua_endpoint where enabled and security_mode = 'None' order by name"),
    ).catch((error: unknown) => {
      // A database from before OPC UA: no endpoints.
      if ((error as { code?: string }).code === UNDEFINED_TABLE) return { rows: [] };
      throw error;
    });
    return { demoKeyActive: rows[0]?.active === true, unsecuredOpcuaEndpoints: unsecured.rows.map((r) => r.name) };
  } catch (error) {
    // Not migrated yet: there are no keys at all.
    if ((error as { code?: string }).code === UNDEFINED_TABLE) return { demoKeyActive: false };
    return { databaseUnchecked: `the database did not answer (${(error as Error).message})` };
  } finally {
    await database.close().catch(() => {});
  }
}

/** An unreachable host would otherwise hold the command for the operating system's TCP timeout. */
async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`)), ANSWER_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
