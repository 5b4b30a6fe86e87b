import "reflect-metadata";

/** `npm run bench -- <name>`: runs one benchmark; each prints a single JSON line last. */
const benches: Record<string, () => Promise<unknown>> = {
  ingest: () => import("./ingest.bench.js"),
  graphql: () => import("./graphql.bench.js"),
  events: () => import("./events.bench.js"),
  partitions: () => import("./partitions.bench.js"),
  sparkplug: () => import("./sparkplug.bench.js"),
  kpi: () => import("./kpi.bench.js"),
  opcua: () => import("./opcua.bench.js"),
  audit: () => import("./audit.bench.js"),
  "opcua-actuation": () => import("./opcua-actuation.bench.js"),
  "lot-export": () => import("./lot-export.bench.js"),
};

const name = process.argv[2] ?? "ingest";
const bench = benches[name];
if (!bench) {
  console.error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
await bench();
