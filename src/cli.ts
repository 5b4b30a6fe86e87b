import "reflect-metadata";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { applyPlantFile, PlantFileRejected } from "./assets/plant-apply.js";
import { allRoles, ConfigError, loadConfig, type Config, type Role } from "./config.js";
import { openDatabase, type Database } from "./db/database.js";
import type { Hub } from "./hub.js";
import { createLogger, type Logger } from "./log/logger.js";
import { createHubPubSub } from "./pubsub/pubsub.js";

const EXIT_FAILURE = 1;
const EXIT_BAD_CONFIG = 2;

const program = new Command("plantgraph")
  .description("GraphQL integration hub between the factory floor and work management tools")
  .showHelpAfterError();

program
  .command("start")
  .description("run the hub")
  .addOption(
    new Option("--role <roles>", "comma-separated roles: api, ingest, worker or all")
      .argParser(parseRoles)
      .default([...allRoles], "all"),
  )
  .action(async (options: { role: Role[] }) => {
    const { config, log } = boot();
    // Loaded here so migrate and apply do not pay for GraphQL, Apollo and MQTT.
    const { startHub } = await import("./hub.js");
    const starting = startHub({ config, roles: options.role, log });
    // Installed before the hub is up, so a signal during startup still shuts down cleanly.
    onShutdownSignal(log, async () => {
      const hub: Hub | undefined = await starting.catch(() => undefined);
      await hub?.stop();
    });
    try {
      await starting;
    } catch (error) {
      log.fatal({ err: error }, "hub failed to start");
      process.exit(EXIT_FAILURE);
    }
  });

program
  .command("migrate")
  .description("apply pending database migrations and exit")
  .action(async () => {
    const { config, log } = boot();
    await withDatabase(config, log, async () => {
      log.info("migrations applied");
    });
  });

program
  .command("apply <file>")
  .description("create or update the asset model from a plant file (all or nothing)")
  .option("--prune", "also delete machines and data points of the file's enterprise that it no longer lists")
  .action(async (file: string, options: { prune?: boolean }) => {
    const { config, log } = boot();
    await withDatabase(config, log, async (database) => {
      try {
        const { created, updated, unchanged, deleted } = await applyPlantFile(database, path.resolve(file), log, { prune: options.prune });
        if (created + updated + deleted > 0) await announceAssetsChanged(config);
        console.log(`applied ${path.basename(file)}: ${created} created, ${updated} updated, ${unchanged} unchanged, ${deleted} deleted`);
      } catch (error) {
        if (!(error instanceof PlantFileRejected)) throw error;
        console.error(error.message);
        process.exitCode = EXIT_FAILURE;
      }
    });
  });

function parseRoles(value: string): Role[] {
  const roles = new Set<Role>();
  for (const name of value.split(",").map((r) => r.trim())) {
    if (name === "all") allRoles.forEach((r) => roles.add(r));
    else if ((allRoles as readonly string[]).includes(name)) roles.add(name as Role);
    else throw new InvalidArgumentError(`unknown role "${name}"; expected api, ingest, worker or all`);
  }
  return [...roles];
}

/** Reads the configuration; a bad setting ends the process with the message alone, no stack. */
function boot(): { config: Config; log: Logger } {
  try {
    const config = loadConfig();
    return { config, log: createLogger(config.logLevel) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(EXIT_BAD_CONFIG);
  }
}

async function withDatabase(config: Config, log: Logger, work: (database: Database) => Promise<void>): Promise<void> {
  let database: Database | undefined;
  try {
    database = await openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
    await database.migrate();
    await work(database);
  } catch (error) {
    log.fatal({ err: error }, "command failed");
    process.exitCode = EXIT_FAILURE;
  } finally {
    await database?.close().catch((error: unknown) => log.error({ err: error }, "closing the database failed"));
  }
}

/** Running hubs reload their bindings; only reaches other processes when Redis is configured. */
async function announceAssetsChanged(config: Config): Promise<void> {
  if (!config.redisUrl) return;
  const handle = createHubPubSub(config.redisUrl);
  handle.pubsub.publish("ASSETS_CHANGED", { at: new Date().toISOString() });
  await handle.close();
}

/** First SIGINT/SIGTERM: orderly shutdown, then exit 0. A second one: exit 1 at once. */
function onShutdownSignal(log: Logger, shutdown: () => Promise<void>): void {
  let received = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (received) {
      log.warn({ signal }, "second signal; exiting without finishing shutdown");
      process.exit(EXIT_FAILURE);
    }
    received = true;
    log.info({ signal }, "shutting down");
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(error);
  process.exit(EXIT_FAILURE);
}
