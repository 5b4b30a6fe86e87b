import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, graphql } from "../support/graphql.js";
import { spawnHub, type HubProcess } from "../support/hub-process.js";

/**
 * What `npm start` does on a fresh machine: no services configured, so PGlite, the embedded
 * broker and the simulated plant; within seconds GraphQL shows machines with live values, and
 * SIGTERM shuts it down cleanly.
 */
describe("the embedded demo (npm start with no configuration)", () => {
  let hub: HubProcess | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await hub?.kill("SIGKILL");
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("issues a one-time admin key, serves the seven simulated machines (one over Sparkplug B) with live values to it, and stops on SIGTERM", async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "plantgraph-demo-"));
    // Blank values count as unset, so whatever the surrounding environment holds cannot leak in.
    hub = spawnHub({
      roles: "all",
      env: { DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "info", DATABASE_URL: "", MQTT_URL: "", REDIS_URL: "", PLANT_FILE: "", SIMULATOR: "" },
    });
    const ready = await hub.waitForLog("embedded MQTT broker listening", { timeoutMs: 60_000 });
    expect(ready.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const keyLine = await hub.waitForLog(/^demo admin API key \(shown once\): pgk_/, { timeoutMs: 60_000 });
    const key = String(keyLine.msg).split(": ")[1]!;
    const line = await hub.waitForLog(/^GraphQL ready at /, { timeoutMs: 60_000 });
    const endpoint = String(line.url);
    expect(line.msg).toBe(`GraphQL ready at ${endpoint}`);

    const anonymous = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{ machines { totalCount } }"}' });
    expect(anonymous.status).toBe(401);

    const machines = await eventually(async () => {
      const result = await graphql(endpoint, `{ machines(first: 10) { totalCount edges { node { path state metrics { name latest { value } } } } } }`, {}, key);
      const edges = result.data?.machines.edges as { node: { state: string; metrics: { latest: { value: number } | null }[] } }[] | undefined;
      return edges?.length === 7 && edges.every((e) => e.node.metrics.every((m) => m.latest !== null)) ? result.data!.machines : undefined;
    }, "live values for all seven machines", 20_000);
    expect(machines.totalCount).toBe(7);
    expect(machines.edges.map((e: { node: { path: string } }) => e.node.path)).toEqual(
      expect.arrayContaining(["demo/plant-1/production/packaging/filler-1", "demo/plant-1/production/moulding/press-4"]),
    );
    // A stopped machine in one of the demo calendar's breaks is in a planned stop.
    for (const { node } of machines.edges) expect(["RUNNING", "IDLE", "PLANNED_STOP"]).toContain(node.state);

    const readyz = await fetch(new URL("/readyz", endpoint));
    expect(readyz.status).toBe(200);

    await hub.kill("SIGTERM");
    expect(hub.child.exitCode).toBe(0);
    expect(hub.lines.map((l) => l.msg)).toContain("hub stopped");
  }, 90_000);
});
