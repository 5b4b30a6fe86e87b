import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/api-key.service.js";
import { authorizeCli, cliCommandPermissions, cliIdentity, CliDenied, type CliCommand } from "../../src/auth/cli-access.js";
import { accessRoles, type AccessRole, type Identity } from "../../src/auth/identity.js";
import { can } from "../../src/auth/permissions.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { REPO_ROOT } from "../support/hub-process.js";
import { oneMachinePlant } from "../support/plant.js";

/**
 * The CLI's data commands follow the same matrix as GraphQL: every command × role × a site
 * inside and outside the caller's scope, then the real binary for bootstrap and refusals.
 */
const inside = "acme/site-1";
const outside = "acme/site-2";

describe("CLI authorization", () => {
  let testDb: TestDatabase;
  let dir: string;
  const keys = new Map<AccessRole, string>();

  const cli = promisify(execFile);
  const run = (args: string[], apiKey?: string) =>
    cli(process.execPath, ["bin/plantgraph.js", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: testDb.url, LOG_LEVEL: "silent", PLANTGRAPH_API_KEY: apiKey ?? "" },
    }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  beforeAll(async () => {
    testDb = await createTestDatabase("cli_authz");
    dir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-cli-authz-"));
  });

  afterAll(async () => {
    await testDb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lets the installer create the first admin key without one, and asks for a key from then on", async () => {
    const first = await run(["keys", "create", "--name", "first admin", "--role", "admin"]);
    expect(first.code).toBe(0);
    const adminKey = first.stdout.split("\n")[0]!;
    expect(adminKey).toMatch(/^pgk_/);

    const anonymous = await run(["keys", "list"]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain("set PLANTGRAPH_API_KEY");
    const wrong = await run(["keys", "list"], "pgk_aaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("PLANTGRAPH_API_KEY: invalid API key");
    expect((await run(["keys", "list"], adminKey)).code).toBe(0);

    for (const role of accessRoles) {
      const { key } = await createApiKey(testDb.database.db, { name: `cli-${role}`, role, sites: [inside], createdBy: "test" });
      keys.set(role, key);
    }
  });

  it.each(accessRoles)("%s: every data command inside its site, outside it, and FORBIDDEN per the matrix", async (role) => {
    const identity: Identity = await cliIdentity(testDb.database, keys.get(role));
    expect(identity.role).toBe(role);
    for (const command of Object.keys(cliCommandPermissions) as CliCommand[]) {
      for (const sites of [[inside], [outside], null] as const) {
        const allowed = can(identity, cliCommandPermissions[command]) && sites !== null && sites[0] === inside;
        const outcome = await authorizeCli(testDb.database, identity, command, sites).then(
          () => "allowed",
          (error: unknown) => (error instanceof CliDenied ? "denied" : `failed: ${String(error)}`),
        );
        expect(`${command} @ ${sites?.[0] ?? "every site"}: ${outcome}`).toBe(`${command} @ ${sites?.[0] ?? "every site"}: ${allowed ? "allowed" : "denied"}`);
      }
    }
  });

  it("applies a plant file of its own site for an engineer, and refuses other sites and other roles through the binary", async () => {
    const insideFile = path.join(dir, "inside.yaml");
    const outsideFile = path.join(dir, "outside.yaml");
    const plant = (site: string) => oneMachinePlant("acme", "press-1", [{ name: "temperature" }]).replace("site-1", site);
    await writeFile(insideFile, plant("site-1"));
    await writeFile(outsideFile, plant("site-2"));

    const applied = await run(["apply", insideFile], keys.get("engineer"));
    expect(applied.stdout).toMatch(/^applied inside\.yaml: \d+ created/);
    const foreign = await run(["apply", outsideFile], keys.get("engineer"));
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain("plantgraph apply: outside your sites: acme/site-2");
    const viewer = await run(["apply", insideFile], keys.get("viewer"));
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain("plantgraph apply: role viewer may not asset.manage");
    // Automations and integrations serve every site: a one-site engineer may not declare them.
    const hubWideFile = path.join(dir, "hub-wide.yaml");
    await writeFile(hubWideFile, `${plant("site-1")}integrations:\n  - { name: board, kind: builtin, config: {} }\n`);
    const hubWide = await run(["apply", hubWideFile], keys.get("engineer"));
    expect(hubWide.code).toBe(1);
    expect(hubWide.stderr).toContain("plantgraph apply: outside your sites: every site");

    const { rows } = await testDb.database.query<{ n: number }>(
      "select count(*)::int as n from security_event where action = 'auth.denied' and resource = 'cli:apply'",
    );
    expect(rows[0]!.n).toBeGreaterThanOrEqual(2);
  });
});
