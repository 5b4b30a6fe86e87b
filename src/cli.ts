import "reflect-metadata";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { applyPlantText, PlantFileRejected } from "./assets/plant-apply.js";
import { parsePlantFile } from "./assets/plant-file.js";
import { apiKeySpec, createApiKey, getApiKey, keyWithinScope, listApiKeys, revokeApiKey, type ApiKeyRow } from "./auth/api-key.service.js";
import { authorizeCli, cliIdentity, CliDenied, type CliCommand } from "./auth/cli-access.js";
import { accessRoles, type AccessRole, type Identity } from "./auth/identity.js";
import { allRoles, ConfigError, loadConfig, type Config, type Role } from "./config.js";
import { openDatabase, type Database } from "./db/database.js";
import type { Hub } from "./hub.js";
import { createLogger, type Logger } from "./log/logger.js";
import { createHubPubSub } from "./pubsub/pubsub.js";
import { readDatabaseSsl } from "./tls/tls-files.js";

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
    // A promise some library forgot to handle (a dropped connection, usually) is a bug to log, not
    // a reason to stop ingesting: what the hub accepted is in PostgreSQL either way.
    process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled promise rejection"));
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
  .command("secrets")
  .description("manage the encryption of stored secrets")
  .command("rotate")
  .description("re-encrypt every stored secret under the first key of SECRETS_KEYS; afterwards older keys can be removed")
  .action(async () => {
    const { config, log } = boot();
    const { createSecretBox, SecretBoxError } = await import("./secrets/secret-box.js");
    const { rotateSecrets } = await import("./integrations/integration.service.js");
    const { rotateEndpointSecrets } = await import("./opcua/opcua-endpoint.service.js");
    await withAccess(config, log, "secrets rotate", async () => null, async (database, identity) => {
      try {
        if (!config.secretsKeys) throw new SecretBoxError("SECRETS_KEYS is not configured: nothing to rotate to", "keyring");
        const box = createSecretBox(config.secretsKeys);
        const { activeKeyId, rotated, rotatedTotal, alreadyCurrent } = await rotateSecrets(database.db, box, { actor: identity.id, log });
        const from = Object.entries(rotated).map(([keyId, count]) => `${count} from ${keyId}`).join(", ");
        console.log(`rotated ${rotatedTotal} integration(s) to key ${activeKeyId}${from ? ` (${from})` : ""}; ${alreadyCurrent} already used it`);
        console.log(`rotated ${await rotateEndpointSecrets(database.db, box)} OPC UA endpoint(s) to key ${activeKeyId}`);
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        console.error(`secrets not rotated, nothing changed: ${error.message}`);
        process.exitCode = EXIT_FAILURE;
      }
    });
  });

program
  .command("apply <file>")
  .description("create or update the asset model from a plant file (all or nothing)")
  .option("--prune", "also delete machines and data points of the file's enterprise that it no longer lists")
  .action(async (file: string, options: { prune?: boolean }) => {
    const { config, log } = boot();
    const text = await readFile(path.resolve(file), "utf8");
    // Pruning may delete machines of any site (and automations of all), so it needs every site.
    const sitesOf = async () => (options.prune ? null : plantSites(text));
    await withAccess(config, log, "apply", sitesOf, async (database) => {
      try {
        const { created, updated, unchanged, deleted } = await applyPlantText(database, text, path.basename(file), log, { prune: options.prune });
        if (created + updated + deleted > 0) await announceAssetsChanged(config);
        console.log(`applied ${path.basename(file)}: ${created} created, ${updated} updated, ${unchanged} unchanged, ${deleted} deleted`);
      } catch (error) {
        if (!(error instanceof PlantFileRejected)) throw error;
        console.error(error.message);
        process.exitCode = EXIT_FAILURE;
      }
    });
  });

program
  .command("doctor")
  .description("check the configuration for security risks; exits 1 when any finding is high")
  .action(async () => {
    const { config } = boot();
    const { inspectConfiguration, formatFindings } = await import("./security/doctor.js");
    const { readDoctorFacts } = await import("./security/doctor.facts.js");
    const findings = inspectConfiguration(config, await readDoctorFacts(config));
    console.log(formatFindings(findings));
    if (findings.some((f) => f.severity === "high")) process.exitCode = EXIT_FAILURE;
  });

program
  .command("opcua")
  .description("OPC UA endpoints")
  .command("trust <endpoint>")
  .description("fetch the server certificate of an OPC UA endpoint (by name) and add it to the hub's trust list (OPCUA_PKI_DIR)")
  .option("--thumbprint <sha1>", "trust it only if its SHA-1 thumbprint is this one (hex, as your server shows it)")
  .action(async (name: string, options: { thumbprint?: string }) => {
    const { config, log } = boot();
    const { endpointByName } = await import("./opcua/opcua-endpoint.service.js");
    const { describeCertificate, fetchServerCertificate, trustCertificate } = await import("./opcua/opcua.trust.js");
    const { recordSecurityEvent } = await import("./auth/security-events.js");
    const sitesOf = async (database: Database) => {
      const endpoint = await endpointByName(database.db, name);
      return endpoint?.site ? [endpoint.site] : null;
    };
    await withAccess(config, log, "opcua trust", sitesOf, async (database, identity) => {
      const endpoint = await endpointByName(database.db, name);
      if (!endpoint) {
        console.error(`no OPC UA endpoint is named ${name}`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      const certificate = await fetchServerCertificate(endpoint.url);
      const { thumbprint, subject } = describeCertificate(certificate);
      const expected = options.thumbprint?.replace(/[:\s]/g, "").toLowerCase();
      if (expected && expected !== thumbprint) {
        console.error(`${endpoint.url} presents certificate ${thumbprint} (${subject}), not ${expected}: not trusted`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      await trustCertificate(config.opcua.pkiDir, certificate);
      await recordSecurityEvent(database.db, { action: "opcua.certificate_trusted", actor: identity.id, outcome: "success", resource: `opcua_endpoint:${endpoint.id}`, detail: { name, url: endpoint.url, thumbprint, subject } });
      console.log(`trusted the certificate of ${name} (${endpoint.url}): SHA-1 ${thumbprint}, ${subject}; running hubs use it at their next connection attempt`);
    });
  });

const audit = program.command("audit").description("verify and export the tamper-evident audit trail");

audit
  .command("verify")
  .description("recompute the audit chain and its signed checkpoints; exits 1 at the first record edited, deleted, inserted or reordered")
  .option("--bundle <dir>", "verify an exported bundle from its files alone (no database)")
  .option("--public-key <file>", "the hub's public key (PEM) to trust (default: the hub's own key; for a bundle, the key inside it)")
  .option("--checkpoints <dir>", "where the signed checkpoints are (default: AUDIT_CHECKPOINT_DIR)")
  .action(async (options: { bundle?: string; publicKey?: string; checkpoints?: string }) => {
    const cli = await import("./audit/audit.cli.js");
    if (options.bundle) {
      const { verifyBundle } = await import("./audit/bundle.verify.js");
      const publicKeyPem = options.publicKey ? await readFile(path.resolve(options.publicKey), "utf8") : undefined;
      const report = await verifyBundle(path.resolve(options.bundle), { publicKeyPem, onProgress: cli.progressLine("verified") });
      console.log(cli.describeBundle(report));
      if (!report.ok) process.exitCode = EXIT_FAILURE;
      return;
    }
    const { config, log } = boot();
    await withAccess(config, log, "audit verify", async () => null, async (database) => {
      const report = await cli.verifyDatabaseTrail(config, database, options.publicKey, options.checkpoints);
      console.log(cli.describeTrail(report));
      if (!report.ok) process.exitCode = EXIT_FAILURE;
    });
  });

audit
  .command("export")
  .description("write the audit records of a period as a bundle: JSON, CSV, signed manifest, checkpoints and a PDF summary")
  .requiredOption("--from <date>", "start of the period, ISO 8601 (included)", parseDate)
  .requiredOption("--to <date>", "end of the period, ISO 8601 (excluded)", parseDate)
  .requiredOption("--out <dir>", "a new or empty directory for the bundle")
  .action(async (options: { from: Date; to: Date; out: string }) => {
    const { config, log } = boot();
    const cli = await import("./audit/audit.cli.js");
    const { ExportRejected } = await import("./audit/bundle.writer.js");
    const { exportTrail } = await import("./audit/export.service.js");
    const { hubKeyFor } = await import("./audit/hub-key.js");
    await withAccess(config, log, "audit export", async () => null, async (database, identity) => {
      try {
        const result = await exportTrail(database, {
          key: await hubKeyFor(config),
          from: options.from,
          to: options.to,
          out: path.resolve(options.out),
          checkpointDir: config.audit.checkpointDir,
          actor: identity.id,
          onProgress: cli.progressLine("exported"),
        });
        console.log(`exported ${result.manifest.records} records to ${result.dir} (manifest SHA-256 ${result.manifestSha256})`);
        if (!result.verification.ok) {
          console.error(`the exported chain does NOT verify: ${result.verification.problem!.kind} at seq ${result.verification.problem!.seq}: ${result.verification.problem!.detail}`);
          process.exitCode = EXIT_FAILURE;
        }
      } catch (error) {
        if (!(error instanceof ExportRejected)) throw error;
        console.error(error.message);
        process.exitCode = EXIT_FAILURE;
      }
    });
  });

audit
  .command("checkpoint")
  .description("sign the audit chain's head now and send it to the checkpoint sinks")
  .action(async () => {
    const { config, log } = boot();
    const { hubKeyFor } = await import("./audit/hub-key.js");
    const { checkpointSinks } = await import("./audit/checkpointer.js");
    const { signCheckpoint } = await import("./audit/checkpoint.js");
    const { chainHead } = await import("./audit/audit.queries.js");
    await withAccess(config, log, "audit checkpoint", async () => null, async (database) => {
      const key = await hubKeyFor(config);
      const checkpoint = signCheckpoint(key, await chainHead(database.query), new Date());
      for (const sink of checkpointSinks(config)) await sink.write(checkpoint, key.publicKeyPem);
      console.log(`checkpoint signed: seq ${checkpoint.seq}, hash ${checkpoint.hash}, key ${checkpoint.keyId}`);
    });
  });

const lot = program.command("lot").description("lots (batches) and their records");

lot
  .command("export")
  .description("write a lot's record as a bundle: lot.json with its genealogy both ways, CSV files, its audit records, a PDF summary, a signed manifest")
  .argument("<lot>", "the lot's code, or its id")
  .requiredOption("--out <dir>", "a new or empty directory for the bundle")
  .action(async (codeOrId: string, options: { out: string }) => {
    const { config, log } = boot();
    const { ExportRejected } = await import("./audit/bundle.writer.js");
    const { hubKeyFor } = await import("./audit/hub-key.js");
    const { lotByCodeOrId } = await import("./lots/lot.queries.js");
    const { exportLotRecord } = await import("./lots/lot-export.service.js");
    const { sitePathOf, scopedSites } = await import("./auth/identity.js");
    const sitesOf = async (database: Database) => {
      const row = await lotByCodeOrId(database.db, codeOrId);
      return row ? [sitePathOf(row.machinePath)] : [];
    };
    await withAccess(config, log, "lot export", sitesOf, async (database, identity) => {
      const row = await lotByCodeOrId(database.db, codeOrId);
      if (!row) {
        console.error(`no lot has the code or id ${JSON.stringify(codeOrId)}`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      try {
        const result = await exportLotRecord({ database, key: await hubKeyFor(config), lot: row, out: path.resolve(options.out), createdBy: identity.id, sites: scopedSites(identity.scope) });
        console.log(`exported lot ${row.code}: ${result.lots} lots in its genealogy, ${result.auditRecords} audit records, to ${result.dir} (manifest SHA-256 ${result.manifestSha256})`);
      } catch (error) {
        if (!(error instanceof ExportRejected)) throw error;
        console.error(error.message);
        process.exitCode = EXIT_FAILURE;
      }
    });
  });

const keys = program.command("keys").description("create, list and revoke API keys (for machines, integrations and the first admin)");

keys
  .command("create")
  .description("create an API key and print it; the key is shown this once only")
  .requiredOption("--name <name>", "what the key is for, e.g. \"line-1 gateway\"")
  .addOption(new Option("--role <role>", "access role").choices(accessRoles).makeOptionMandatory())
  .option("--sites <sites>", "comma-separated enterprise/site paths the key may see (default: every site)", parseList)
  .option("--expires <date>", "ISO 8601 date or time when the key stops working (default: never)", parseDate)
  .action(async (options: { name: string; role: AccessRole; sites?: string[]; expires?: Date }) => {
    const { config, log } = boot();
    await withAccess(config, log, "keys create", async () => options.sites ?? null, async (database, identity) => {
      const spec = { name: options.name, role: options.role, sites: options.sites ?? null, expiresAt: options.expires, createdBy: identity.id };
      const parsed = apiKeySpec.safeParse(spec);
      if (!parsed.success) {
        console.error(parsed.error.issues.map((i) => `${cliOptionOf(i.path, spec)}: ${i.message}`).join("\n"));
        process.exitCode = EXIT_FAILURE;
        return;
      }
      const { key, row } = await createApiKey(database.db, parsed.data);
      console.log(key);
      console.log(`API key ${row.id} "${row.name}" (${row.role}, ${row.sites?.join(", ") ?? "every site"}) created. It will not be shown again: store it now.`);
    });
  });

keys
  .command("list")
  .description("list API keys (never their secrets)")
  .action(async () => {
    const { config, log } = boot();
    await withAccess(config, log, "keys list", async () => [], async (database, identity) => {
      const visible = (await listApiKeys(database.db)).filter((row) => keyWithinScope(identity.scope, row.sites));
      console.log(apiKeyTable(visible, new Date()));
    });
  });

keys
  .command("revoke <id>")
  .description("revoke an API key at once (running hubs stop accepting it within 10 seconds)")
  .action(async (id: string) => {
    const { config, log } = boot();
    const keyId = /^[1-9]\d{0,9}$/.test(id) && Number(id) <= 2 ** 31 - 1 ? Number(id) : undefined;
    const sitesOf = async (database: Database) => (keyId === undefined ? null : ((await getApiKey(database.db, keyId))?.sites ?? null));
    await withAccess(config, log, "keys revoke", sitesOf, async (database, identity) => {
      const row = keyId === undefined ? undefined : await revokeApiKey(database.db, keyId, identity.id);
      if (!row) {
        console.error(`no API key has id ${id}`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      console.log(`API key ${row.id} "${row.name}" revoked at ${row.revokedAt!.toISOString()}`);
    });
  });

function parseList(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function parseDate(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`expected an ISO 8601 date such as 2030-01-31 or 2030-01-31T12:00:00Z`);
  return date;
}

/** The option a validation issue is about, with the offending site when it is one of several. */
function cliOptionOf(path: PropertyKey[], spec: { sites: string[] | null }): string {
  const [field, index] = path;
  if (field === "sites" && typeof index === "number") return `--sites ${JSON.stringify(spec.sites?.[index])}`;
  return `--${field === "expiresAt" ? "expires" : String(field)}`;
}

function apiKeyTable(rows: ApiKeyRow[], now: Date): string {
  if (rows.length === 0) return "no API keys";
  const at = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace("T", " ") : "-");
  const status = (r: ApiKeyRow) => (r.revokedAt ? "revoked" : r.expiresAt && r.expiresAt <= now ? "expired" : "active");
  const table = [
    ["ID", "NAME", "PREFIX", "ROLE", "SITES", "STATUS", "CREATED", "EXPIRES", "LAST USED", "CREATED BY"],
    ...rows.map((r) => [String(r.id), r.name, r.prefix, r.role, r.sites?.join(",") ?? "*", status(r), at(r.createdAt), at(r.expiresAt), at(r.lastUsedAt), r.createdBy]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  return table.map((line) => line.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n");
}

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
    database = await openDatabase({ url: config.database.url, dataDir: config.database.dataDir, ssl: await readDatabaseSsl(config) });
    await database.migrate();
    await work(database);
    // Audit entries the command wrote are linked now rather than by the next hub that runs.
    const { linkAllPending } = await import("./audit/chainer.js");
    await linkAllPending(database.db);
  } catch (error) {
    log.fatal({ err: error }, "command failed");
    process.exitCode = EXIT_FAILURE;
  } finally {
    await database?.close().catch((error: unknown) => log.error({ err: error }, "closing the database failed"));
  }
}

/**
 * Runs a data command as the CLI's identity (PLANTGRAPH_API_KEY), after checking the command's
 * permission and the sites it touches against the same matrix GraphQL enforces.
 */
async function withAccess(
  config: Config,
  log: Logger,
  command: CliCommand,
  sitesOf: (database: Database) => Promise<readonly string[] | null>,
  work: (database: Database, identity: Identity) => Promise<void>,
): Promise<void> {
  await withDatabase(config, log, async (database) => {
    try {
      const identity = await cliIdentity(database, config.cliApiKey);
      await authorizeCli(database, identity, command, await sitesOf(database));
      await work(database, identity);
    } catch (error) {
      if (!(error instanceof CliDenied)) throw error;
      console.error(error.message);
      process.exitCode = EXIT_FAILURE;
    }
  });
}

/**
 * The "enterprise/site" paths a plant file declares; none for a file that does not parse (apply
 * rejects it); null (every site) when it declares automations, integrations or OPC UA endpoints, which are not a
 * site's alone.
 */
function plantSites(text: string): string[] | null {
  const parsed = parsePlantFile(text);
  if (!parsed.ok) return [];
  const { plant } = parsed;
  if ((plant.automations?.length ?? 0) + (plant.integrations?.length ?? 0) + (plant.opcuaEndpoints?.length ?? 0) > 0) return null;
  return plant.sites.map((site) => `${plant.enterprise}/${site.name}`);
}

/** Running hubs reload their bindings; only reaches other processes when Redis is configured. */
async function announceAssetsChanged(config: Config): Promise<void> {
  if (!config.redisUrl) return;
  const handle = createHubPubSub(config.redisUrl, undefined, config.jobs.prefix);
  handle.pubsub.publish("ASSETS_CHANGED", { at: new Date().toISOString() });
  await handle.close();
}

/**
 * First SIGINT/SIGTERM: orderly shutdown, then exit 0. A second one: exit 1 at once, unless it
 * came within a second of the first: Ctrl-C under `npm start` reaches the hub twice (from the
 * terminal to the whole process group, and relayed by npm and tsx), which is one request.
 */
const DUPLICATE_SIGNAL_MS = 1_000;

function onShutdownSignal(log: Logger, shutdown: () => Promise<void>): void {
  let receivedAt: number | undefined;
  const handle = (signal: NodeJS.Signals): void => {
    if (receivedAt !== undefined) {
      if (Date.now() - receivedAt < DUPLICATE_SIGNAL_MS) return;
      log.warn({ signal }, "second signal; exiting without finishing shutdown");
      process.exit(EXIT_FAILURE);
    }
    receivedAt = Date.now();
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
