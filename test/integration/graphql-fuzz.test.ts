import { randomInt } from "node:crypto";
import { Writable } from "node:stream";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from "graphql";
import { toGlobalId } from "graphql-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { parseConfig } from "../../src/config.js";
import { buildGraphqlSchema } from "../../src/graphql/schema.js";
import { startHttpServer, type HttpServer } from "../../src/http/server.js";
import { createLogger } from "../../src/log/logger.js";
import { createHubPubSub, type PubSubHandle } from "../../src/pubsub/pubsub.js";
import { LatestValues } from "../../src/telemetry/latest-values.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { post } from "../support/graphql.js";
import { bearer, testIdentity, tokenAuthenticator } from "../support/test-authenticator.js";

/**
 * Every Query and Mutation field of the schema, called a few hundred times with arguments made
 * from their types (random and boundary values, wrong types, garbage ids, deep objects) by an
 * admin, against the real HTTP server. Bad input must come back as a GraphQL error the client can
 * read, never as a crash: no 5xx, no masked INTERNAL_SERVER_ERROR. FUZZ_SEED replays a run;
 * FUZZ_OPERATIONS changes its length.
 */

const SEED = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));
const OPERATIONS = Number(process.env.FUZZ_OPERATIONS ?? 400);
const ADMIN = "fuzz-admin";

const PLANT = `
enterprise: fuzz
sites:
  - name: site-1
    timezone: Europe/Berlin
    areas:
      - name: area-1
        lines:
          - name: line-1
            machines:
              - name: press-1
                dataPoints:
                  - { name: temperature, dataType: float, unit: "°C", normalRange: { min: 0, max: 90 }, mqtt: { topic: fuzz/press-1/telemetry, field: t } }
                  - { name: running, dataType: boolean, mqtt: { topic: fuzz/press-1/telemetry, field: r } }
              - name: press-2
                dataPoints:
                  - { name: parts, dataType: integer, mqtt: { topic: fuzz/press-2/parts } }
`;

/** mulberry32: small, seedable, good enough to pick test values. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    chance: (p: number) => next() < p,
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}
type Random = ReturnType<typeof prng>;

/** Nested `levels` deep, alternating objects and lists. */
function deepObject(levels: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < levels; i++) value = i % 2 ? { nested: value } : [value];
  return value;
}

const LONG = "x".repeat(5_000);
const STRINGS = [
  "",
  " ",
  "a",
  LONG,
  "🏭🔥 Ünïcödé — 工場",
  "\u0000\u0001\u202e\ufeff",
  "'; drop table machine; --",
  "%_\\",
  "../../etc/passwd",
  "fuzz/site-1/area-1/line-1/press-1",
  "fuzz/site-1",
  "<script>alert(1)</script>",
  "NaN",
  "-1",
  "1e309",
];
const INTS = [0, 1, -1, 50, 500, 501, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5, "12", "NaN", true];
const FLOATS = [0, -0, 1.5, -1e308, 1e308, 5e-324, 2 ** 53 + 1, "Infinity", "NaN", "1.5", false];
const DATES = ["2026-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "", "yesterday", 0, 1e20];
const DURATIONS = ["PT1M", "PT1H", "P1D", "PT0S", "-PT1M", "P1000000Y", "PT0.001S", "garbage", "", 60];
/** Whatever a confused or hostile client might send where anything else was expected. */
const GARBAGE: unknown[] = [null, true, 0, -1, 2 ** 31, "", LONG, [], [1, "a", null], {}, { a: 1 }, deepObject(40), "////", "%%%"];

/** Ids a client could send: real ones of every type, others' types, malformed, out of range. */
function idPool(realIds: readonly string[]): string[] {
  return [
    ...realIds,
    ...realIds.map((id) => id.slice(0, -2)),
    toGlobalId("Machine", "-1"),
    toGlobalId("Machine", "0"),
    toGlobalId("Machine", String(2 ** 31)),
    toGlobalId("Machine", "1e3"),
    toGlobalId("Machine", "99999"),
    toGlobalId("DataPoint", "1.5"),
    toGlobalId("Nope", "1"),
    toGlobalId("", ""),
    Buffer.from("\u0000\uffff garbage").toString("base64"),
    "////",
    "=",
    "1",
    "0",
    "-1",
    "2147483648",
    "",
    LONG,
    "🏭",
  ];
}

class Generator {
  constructor(
    private readonly random: Random,
    private readonly ids: readonly string[],
  ) {}

  /** A variable value for `type`: mostly of the type (boundaries included), sometimes not at all. */
  value(type: GraphQLInputType, depth = 0): unknown {
    const r = this.random;
    if (r.chance(0.06)) return r.pick(GARBAGE);
    if (isNonNullType(type)) return r.chance(0.03) ? null : this.value(type.ofType, depth);
    if (r.chance(0.12)) return null;
    if (isListType(type)) {
      if (r.chance(0.1)) return this.value(type.ofType, depth + 1); // a single value where a list goes
      const length = r.chance(0.05) ? 200 : r.int(4);
      return Array.from({ length }, () => this.value(type.ofType, depth + 1));
    }
    if (isEnumType(type)) {
      const names = type.getValues().map((v) => v.name);
      return r.chance(0.75) ? r.pick(names) : r.pick(["NOPE", r.pick(names).toLowerCase(), "", 0]);
    }
    if (isInputObjectType(type)) {
      if (depth > 4) return deepObject(30);
      const object: Record<string, unknown> = {};
      for (const field of Object.values(type.getFields())) {
        if (isNonNullType(field.type) ? r.chance(0.97) : r.chance(0.6)) object[field.name] = this.value(field.type, depth + 1);
      }
      if (r.chance(0.08)) object.unexpected = r.pick(GARBAGE);
      return object;
    }
    switch (type.name) {
      case "ID":
        return r.pick(this.ids);
      case "Int":
        return r.pick(INTS);
      case "Float":
        return r.pick(FLOATS);
      case "Boolean":
        return r.chance(0.9) ? r.chance(0.5) : "true";
      case "DateTime":
        return r.pick(DATES);
      case "Duration":
        return r.pick(DURATIONS);
      case "JSON":
        return r.pick([...GARBAGE, { apiToken: "secret" }, ...STRINGS]);
      default:
        return r.pick(STRINGS);
    }
  }

  /** A small selection set of `type`: a few scalar fields and at most two object fields a level, three levels deep. */
  selection(type: GraphQLOutputType, depth = 0): string {
    const named = getNamedType(type);
    if (isLeafType(named)) return "";
    if (!isObjectType(named) && !isInterfaceType(named)) return "{ __typename }";
    const callable = Object.values(named.getFields()).filter((f) => f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined));
    const leaves = callable.filter((f) => isLeafType(getNamedType(f.type)));
    const objects = depth < 3 ? callable.filter((f) => !isLeafType(getNamedType(f.type))) : [];
    const chosen = [
      ...leaves.filter(() => this.random.chance(0.6)).map((f) => f.name),
      ...objects.filter(() => this.random.chance(0.4)).slice(0, 2).map((f) => `${f.name} ${this.selection(f.type, depth + 1)}`),
    ];
    return `{ __typename ${chosen.join(" ")} }`;
  }

  operation(kind: "query" | "mutation", field: GraphQLField<unknown, unknown>): { query: string; variables: Record<string, unknown> } {
    const variables: Record<string, unknown> = {};
    const definitions: string[] = [];
    const args: string[] = [];
    for (const arg of field.args) {
      // Required arguments are left out now and then too: validation must refuse that cleanly.
      const omit = isNonNullType(arg.type) ? this.random.chance(0.03) : this.random.chance(0.35);
      if (omit) continue;
      const name = `v_${arg.name}`;
      definitions.push(`$${name}: ${String(arg.type)}`);
      args.push(`${arg.name}: $${name}`);
      variables[name] = this.value(arg.type);
    }
    const head = definitions.length ? `${kind} Fuzz(${definitions.join(", ")})` : `${kind} Fuzz`;
    const call = args.length ? `${field.name}(${args.join(", ")})` : field.name;
    return { query: `${head} { ${call} ${this.selection(field.type)} }`, variables };
  }
}

interface Failure {
  query: string;
  variables: Record<string, unknown>;
  problem: string;
}

describe("GraphQL fuzzing over HTTP", () => {
  let testDb: TestDatabase;
  let pubsub: PubSubHandle;
  let server: HttpServer;
  let schema: GraphQLSchema;
  const headers = bearer(ADMIN);
  /** The logged originals of masked errors, by correlation id. */
  const crashes = new Map<string, string>();

  beforeAll(async () => {
    testDb = await createTestDatabase("graphql_fuzz");
    const log = createLogger("error", new Writable({
      write(chunk: Buffer, _encoding, done) {
        const line = JSON.parse(chunk.toString()) as { correlationId?: string; err?: { message?: string; stack?: string } };
        if (line.correlationId) crashes.set(line.correlationId, line.err?.stack ?? line.err?.message ?? "?");
        done();
      },
    }));
    await applyPlantText(testDb.database, PLANT, "fuzz-plant.yaml", log);
    pubsub = createHubPubSub();
    const config = parseConfig({ NODE_ENV: "test", PORT: "0", RATE_LIMIT_PER_MINUTE: "1000000" });
    server = await startHttpServer({
      config,
      deps: {
        config,
        database: testDb.database,
        pubsub: pubsub.pubsub,
        latest: new LatestValues(testDb.database, undefined),
        log,
        authenticator: tokenAuthenticator({ [ADMIN]: testIdentity("admin") }),
      },
      health: async () => ({}),
      log,
    });
    schema = await buildGraphqlSchema();
  });

  afterAll(async () => {
    await server?.close();
    await pubsub?.close();
    await testDb?.drop();
  });

  it("answers every generated operation with a well-formed GraphQL response, never a crash", async () => {
    console.info(`graphql fuzz: seed ${SEED}, ${OPERATIONS} operations (replay with FUZZ_SEED=${SEED})`);
    const random = prng(SEED);
    const realIds = await collectIds(server.url, headers);
    expect(realIds.length).toBeGreaterThan(5);
    const generator = new Generator(random, idPool(realIds));

    const roots: ["query" | "mutation", GraphQLObjectType][] = [["query", schema.getQueryType()!], ["mutation", schema.getMutationType()!]];
    const fields = roots.flatMap(([kind, type]) => Object.values(type.getFields()).map((field) => [kind, field] as const));
    expect(fields.length).toBeGreaterThan(10);

    const failures: Failure[] = [];
    const answered = { data: 0, errors: 0 };
    for (let i = 0; i < OPERATIONS; i++) {
      // Every field once, then fields at random.
      const [kind, field] = i < fields.length ? fields[i]! : random.pick(fields);
      const { query, variables } = generator.operation(kind, field);
      const problem = await check(server.url, headers, query, variables, answered, crashes);
      if (problem) failures.push({ query, variables, problem });
    }

    // One example of each kind of failure: the same bug tends to show up many times.
    const kinds = new Map(failures.map((f) => [f.problem.replace(/"correlationId":"[^"]+"/, "").slice(0, 200), f]));
    const report = [...kinds.values()]
      .slice(0, 10)
      .map((f) => `${f.problem}\n  ${f.query}\n  ${JSON.stringify(f.variables).slice(0, 500)}`)
      .join("\n");
    expect(failures, `seed ${SEED}: ${failures.length} bad answers, e.g.\n${report}`).toEqual([]);
    // The run must have exercised resolvers, not only validation.
    expect(answered.data).toBeGreaterThan(OPERATIONS / 10);
    expect(answered.errors).toBeGreaterThan(OPERATIONS / 10);

    const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
  }, 180_000);
});

/** Global ids of every asset of the plant, read through the API. */
async function collectIds(url: string, headers: Record<string, string>): Promise<string[]> {
  const response = await post(
    url,
    { query: "{ enterprises { id sites { id areas { id lines { id machines { id metrics { id } } } } } } }" },
    headers,
  );
  const text = await response.text();
  const ids = [...text.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]!);
  return [...new Set(ids)];
}

/** What is wrong with the server's answer, or undefined when it is a proper GraphQL response. */
async function check(
  url: string,
  headers: Record<string, string>,
  query: string,
  variables: Record<string, unknown>,
  answered: { data: number; errors: number },
  crashes: ReadonlyMap<string, string>,
): Promise<string | undefined> {
  const response = await post(url, { query, variables }, headers);
  const text = await response.text();
  if (response.status >= 500) return `HTTP ${response.status}: ${text.slice(0, 300)}`;
  let body: { data?: unknown; errors?: { message?: unknown; extensions?: { code?: unknown } }[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return `HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 300)}`;
  }
  if (body === null || typeof body !== "object" || !("data" in body || "errors" in body)) {
    return `HTTP ${response.status} with neither data nor errors: ${text.slice(0, 300)}`;
  }
  if (body.errors !== undefined && (!Array.isArray(body.errors) || body.errors.some((e) => typeof e?.message !== "string"))) {
    return `malformed errors: ${text.slice(0, 300)}`;
  }
  const internal = body.errors?.find((e) => e.extensions?.code === "INTERNAL_SERVER_ERROR");
  if (internal) {
    const correlationId = (internal.extensions as { correlationId?: string }).correlationId ?? "";
    return `masked crash ${JSON.stringify(internal)}: ${crashes.get(correlationId)?.split("\n").slice(0, 4).join(" | ")}`;
  }
  if (body.data !== undefined && body.data !== null) answered.data++;
  if (body.errors?.length) answered.errors++;
  return undefined;
}
