import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConnectorError, type ConnectorErrorKind } from "./errors.js";
import type { ContractCase, RecordedRequest, ToolFake } from "./fake.types.js";
import type { ConnectorContext, ExternalTask, Notification, TaskDraft, WebhookRequest } from "./types.js";

/**
 * The one contract suite every connector runs (test/contract/<name>.contract.test.ts) against the
 * local fake of its tool. Checks run for each capability the connector claims.
 *
 * Conventions the suite relies on:
 * - `requiredField: ""` means the config has no required field (the builtin board): the
 *   "rejects {}" and "rejects an emptied field" checks are skipped, "accepts the good config" stays.
 * - A fake's `errorBody` carries the message it is given, so the suite can check that the tool's
 *   own error text reaches the ConnectorError message ("injected failure 400").
 * - `expect` (below) says what the tool's requests look like; a connector that claims tasks or
 *   notify must state `createRequest`/`notifyRequest` and `authHeader`, or the suite fails.
 * - Poll connectors: the fake's page holds at most `expect.pollPageSize` (default 2) tasks; the
 *   suite moves more tasks than fit in one page (they stay listed, e.g. in progress), so a poll that
 *   ignores pagination fails; during that first poll no request path may name a task id (reading
 *   moved tasks one by one would hide a poll that stops at page one). Later polls may read tasks
 *   that dropped out of the list (completed) one by one.
 */
export interface ContractExpectations<C> {
  /** The request createTask sends (path without query). */
  readonly createRequest?: { readonly method: string; readonly path: string | RegExp };
  /** The request notify sends (path without query). */
  readonly notifyRequest?: { readonly method: string; readonly path: string | RegExp };
  /** The header the tool authenticates with under `config`; undefined when the URL is the secret. */
  readonly authHeader?: (config: C) => { readonly name: string; readonly value: string } | undefined;
  /** The inbound signature header; removing it must make verifyWebhook reject the request. */
  readonly signatureHeader?: string;
  /** The most tasks one page of the fake's list endpoint holds (default 2). */
  readonly pollPageSize?: number;
  /** The connector does no I/O at all (builtin): HTTP checks are skipped; the fake must see no request. */
  readonly noIo?: boolean;
}

export interface ConnectorContractCase<C = Record<string, unknown>> extends ContractCase<C> {
  readonly expect?: ContractExpectations<C>;
}

export const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

/** A context for tests: the global fetch, a silent log, a live signal and the real clock. */
export function testContext(overrides: Partial<ConnectorContext> = {}): ConnectorContext {
  return { fetch: globalThis.fetch, log: silentLog, signal: new AbortController().signal, now: () => new Date(), ...overrides };
}

export function sampleDraft(n = 1): TaskDraft {
  return {
    key: `pg-e4711${n}-2`,
    title: `Spindle temperature high on CNC ${n}`,
    description: "Temperature 92.5 C is above the limit of 80 C.\nCheck the coolant level.",
    labels: ["plantgraph", "cnc"],
    priority: "high",
    dueDate: "2030-01-31",
    link: "https://hub.example/machines/cnc",
  };
}

export const sampleNotification: Notification = {
  key: "pg-e4712-1",
  title: "Press 3 stopped",
  text: "Hydraulic pressure fell below 120 bar.",
  severity: "critical",
  link: "https://hub.example/machines/press-3",
  facts: { machine: "Press 3", value: "96 bar", limit: "120 bar" },
};

/** Status codes the tool may answer and the kind each must become. */
const statusKinds: readonly [number, ConnectorErrorKind, Record<string, string>?, number?][] = [
  [400, "rejected"],
  [401, "auth"],
  [403, "auth"],
  [404, "not_found"],
  [422, "rejected"],
  [429, "rate_limited", { "Retry-After": "7" }, 7000],
  [503, "transient"],
];

function pathOf(request: RecordedRequest): string {
  return request.url.split("?")[0] ?? "";
}

function matches(request: RecordedRequest, expected: { method: string; path: string | RegExp }): boolean {
  const path = pathOf(request);
  return (
    request.method === expected.method.toUpperCase() &&
    (typeof expected.path === "string" ? path === expected.path : expected.path.test(path))
  );
}

/** Everything a request carries, as one searchable string. */
function searchable(request: RecordedRequest): string {
  const url = decodeURIComponent(request.url.replace(/\+/g, " "));
  return `${url}\n${typeof request.body === "string" ? request.body : JSON.stringify(request.body)}`;
}

async function caught(run: () => Promise<unknown>): Promise<ConnectorError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorError);
    return error as ConnectorError;
  }
  throw new Error("expected a ConnectorError, but the call succeeded");
}

function tamper(request: WebhookRequest): WebhookRequest {
  const body = Buffer.from(request.body);
  const at = Math.floor(body.length / 2);
  body[at] = (body[at] ?? 0) === 0x41 ? 0x42 : 0x41;
  return { headers: request.headers, body };
}

export function describeConnectorContract<C>(name: string, contractCase: ConnectorContractCase<C>): void {
  const { connector } = contractCase;
  const can = connector.capabilities;
  const expectations: ContractExpectations<C> = contractCase.expect ?? {};
  const noIo = expectations.noIo === true;

  describe(`connector contract: ${name}`, () => {
    let fake: ToolFake;
    let config: C;
    const ctx = testContext();

    beforeEach(async () => {
      fake = await contractCase.startFake();
      config = contractCase.config(fake);
    });
    afterEach(async () => {
      await fake.close();
    });

    const expectedRequest = (request: RecordedRequest): void => {
      const auth = expectations.authHeader?.(config);
      if (auth) expect(request.headers[auth.name.toLowerCase()], `${auth.name} header`).toBe(auth.value);
    };

    /** Exactly one request since `before` matches the stated request; it carries auth and `needles`. */
    const expectOneSent = (before: number, which: "createRequest" | "notifyRequest", needles: string[]): RecordedRequest => {
      const expected = expectations[which];
      expect(expected, `the contract case states expect.${which}`).toBeDefined();
      expect(expectations.authHeader, "the contract case states expect.authHeader").toBeDefined();
      const sent = fake.requests.slice(before).filter((request) => matches(request, expected!));
      expect(sent, `one ${expected!.method} ${String(expected!.path)}`).toHaveLength(1);
      expectedRequest(sent[0]!);
      for (const needle of needles) expect(searchable(sent[0]!)).toContain(needle);
      return sent[0]!;
    };

    const expectStatusKinds = (label: string, run: () => Promise<unknown>): void => {
      for (const [status, kind, headers, retryAfterMs] of statusKinds) {
        it(`${label}: ${status} becomes ${kind}${retryAfterMs ? ` with retryAfterMs ${retryAfterMs}` : ""}`, async () => {
          fake.failNext(status, headers ? { headers } : {});
          const error = await caught(run);
          expect(error.kind).toBe(kind);
          expect(error.details.status).toBe(status);
          if (retryAfterMs !== undefined) expect(error.details.retryAfterMs).toBe(retryAfterMs);
          expect(error.message, "the tool's own error text").toContain(`injected failure ${status}`);
          for (const key of connector.secretKeys) {
            const secret = (config as Record<string, unknown>)[key];
            if (typeof secret === "string" && secret.length >= 4) expect(error.message).not.toContain(secret);
          }
        });
      }
    };

    describe("definition and config", () => {
      it("has a kind, a display name and a positive rate limit", () => {
        expect(connector.kind).toMatch(/^[a-z][a-z0-9_-]*$/);
        expect(connector.displayName.length).toBeGreaterThan(0);
        expect(connector.rateLimit.max).toBeGreaterThan(0);
        expect(connector.rateLimit.durationMs).toBeGreaterThan(0);
      });

      it("accepts the good config, and every secret key is a field of it", () => {
        const parsed = connector.configSchema.safeParse(config);
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
        for (const key of connector.secretKeys) expect(Object.keys(config as object)).toContain(key);
      });

      if (contractCase.requiredField !== "") {
        it("rejects {}", () => {
          expect(connector.configSchema.safeParse({}).success).toBe(false);
        });

        it(`rejects the config with ${contractCase.requiredField} emptied or missing`, () => {
          const good = config as Record<string, unknown>;
          expect(Object.keys(good)).toContain(contractCase.requiredField);
          expect(connector.configSchema.safeParse({ ...good, [contractCase.requiredField]: "" }).success).toBe(false);
          const { [contractCase.requiredField]: _dropped, ...without } = good;
          expect(connector.configSchema.safeParse(without).success).toBe(false);
        });
      }

      it("verifyConfig passes against the fake", async () => {
        await connector.verifyConfig(config, ctx);
      });

      if (!noIo) {
        it("verifyConfig throws ConnectorError auth when the tool answers 401", async () => {
          fake.failNext(401);
          expect((await caught(() => connector.verifyConfig(config, ctx))).kind).toBe("auth");
        });
      }
    });

    if (can.tasks) describeTasks();
    if (can.notify) describeNotify();
    if (can.webhook) describeWebhook();
    if (can.poll) describePoll();

    if (noIo) {
      it("does no I/O: the fake saw no request", async () => {
        const created = await connector.createTask!(config, sampleDraft(), ctx);
        await connector.updateTask!(config, { externalId: created.externalId, status: "done", comment: "ok" }, ctx);
        await connector.verifyConfig(config, ctx);
        expect(fake.requests).toEqual([]);
      });
    }

    function describeTasks(): void {
      describe("tasks", () => {
        const create = async (n = 1): Promise<ExternalTask> => connector.createTask!(config, sampleDraft(n), ctx);

        it("createTask sends the tool's create request and returns an open task", async () => {
          const draft = sampleDraft();
          const before = fake.requests.length;
          const task = await connector.createTask!(config, draft, ctx);
          expect(task.status).toBe("open");
          expect(task.externalId).toMatch(/\S/);
          expect(task.externalStatus).toMatch(/\S/);
          if (noIo) return;
          const sent = expectOneSent(before, "createRequest", [draft.title]);
          expect(searchable(sent), "the idempotency key is stored where it can be searched").toContain(draft.key);
        });

        if (connector.findTask) {
          it("findTask finds a created task by its key, and not an unknown key", async () => {
            const created = await create();
            const found = await connector.findTask!(config, sampleDraft().key, ctx);
            expect(found?.externalId).toBe(created.externalId);
            expect(found?.status).toBe("open");
            expect(await connector.findTask!(config, "pg-e999999-9", ctx)).toBeUndefined();
          });
        }

        for (const status of ["in_progress", "done"] as const) {
          it(`updateTask moves a task to ${status}`, async () => {
            const created = await create();
            const updated = await connector.updateTask!(config, { externalId: created.externalId, status }, ctx);
            expect(updated.externalId).toBe(created.externalId);
            expect(updated.status).toBe(status);
            if (connector.findTask) expect((await connector.findTask(config, sampleDraft().key, ctx))?.status).toBe(status);
          });
        }

        it("updateTask adds a comment", async () => {
          const created = await create();
          const comment = "Coolant refilled by the night shift";
          const before = fake.requests.length;
          const updated = await connector.updateTask!(config, { externalId: created.externalId, comment }, ctx);
          expect(updated.externalId).toBe(created.externalId);
          if (noIo) return;
          const sent = fake.requests.slice(before).filter((request) => searchable(request).includes(comment));
          expect(sent.length, "a request carrying the comment").toBeGreaterThan(0);
          expectedRequest(sent[0]!);
        });

        if (!noIo) expectStatusKinds("createTask", () => create());
      });
    }

    function describeNotify(): void {
      describe("notify", () => {
        it("notify posts the expected payload", async () => {
          const before = fake.requests.length;
          await connector.notify!(config, sampleNotification, ctx);
          expectOneSent(before, "notifyRequest", [sampleNotification.title, sampleNotification.text]);
        });

        expectStatusKinds("notify", () => connector.notify!(config, sampleNotification, ctx));
      });
    }

    function describeWebhook(): void {
      describe("webhook", () => {
        const names = (): { inProgress: string; done: string } => {
          expect(contractCase.webhook, "the contract case gives webhook()").toBeDefined();
          expect(contractCase.statusNames, "the contract case gives statusNames").toBeDefined();
          return contractCase.statusNames!;
        };
        const someId = async (): Promise<string> =>
          can.tasks ? (await connector.createTask!(config, sampleDraft(), ctx)).externalId : "ext-1";

        for (const [canonical, pick] of [
          ["in_progress", (n: { inProgress: string }) => n.inProgress],
          ["done", (n: { done: string }) => n.done],
        ] as const) {
          it(`a genuine request verifies and parses to a change to ${canonical}`, async () => {
            const externalStatus = pick(names());
            const id = await someId();
            const request = contractCase.webhook!(config, id, externalStatus);
            expect(connector.verifyWebhook!(config, request, ctx)).toBe(true);
            const changes = connector.parseWebhook!(config, request, ctx);
            expect(changes).toHaveLength(1);
            expect(changes[0]).toMatchObject({ externalId: id, status: canonical, externalStatus });
            expect(Number.isNaN(Date.parse(changes[0]!.at))).toBe(false);
          });
        }

        it("the same request with one byte of the body changed is rejected", async () => {
          const request = contractCase.webhook!(config, await someId(), names().inProgress);
          expect(connector.verifyWebhook!(config, request, ctx)).toBe(true);
          expect(connector.verifyWebhook!(config, tamper(request), ctx)).toBe(false);
        });

        it("the same request without its signature header (or without any header) is rejected", async () => {
          const request = contractCase.webhook!(config, await someId(), names().inProgress);
          const signature = expectations.signatureHeader?.toLowerCase();
          if (signature) {
            expect(Object.keys(request.headers), "the request carries the signature header").toContain(signature);
            const { [signature]: _removed, ...rest } = request.headers;
            expect(connector.verifyWebhook!(config, { headers: rest, body: request.body }, ctx)).toBe(false);
          }
          expect(connector.verifyWebhook!(config, { headers: {}, body: request.body }, ctx)).toBe(false);
        });

        it("verifyWebhook never throws on garbage", () => {
          const garbage: WebhookRequest = {
            headers: { "x-hub-signature": "sha256=zz", "x-signature": "t=x,v1=", authorization: "Bearer" },
            body: Buffer.from("not json"),
          };
          expect(connector.verifyWebhook!(config, garbage, ctx)).toBe(false);
        });
      });
    }

    function describePoll(): void {
      describe("poll", () => {
        it("reports tasks moved in the tool, following every page, and nothing for unmoved tasks", async () => {
          expect(fake.moveTask, "the fake implements moveTask").toBeDefined();
          expect(contractCase.statusNames, "the contract case gives statusNames").toBeDefined();
          const { inProgress, done } = contractCase.statusNames!;
          const moved = (expectations.pollPageSize ?? 2) + 1;
          const tasks: ExternalTask[] = [];
          for (let n = 1; n <= moved + 1; n += 1) tasks.push(await connector.createTask!(config, sampleDraft(n), ctx));
          const unmoved = tasks[moved]!;
          for (const task of tasks.slice(0, moved)) await fake.moveTask!(task.externalId, inProgress);

          const tracked = tasks.map((task) => ({ externalId: task.externalId, status: "open" as const }));
          const before = fake.requests.length;
          const changes = await connector.poll!(config, { tasks: tracked }, ctx);
          // Moved tasks are still listed; reading them one by one would hide a poll that stops at page one.
          const readOneByOne = fake.requests
            .slice(before)
            .filter((request) => tasks.some((task) => pathOf(request).split("/").includes(encodeURIComponent(task.externalId))));
          expect(readOneByOne.map((request) => request.url), "poll follows the list's pages instead of reading tasks one by one").toEqual([]);
          for (const task of tasks.slice(0, moved)) {
            const mine = changes.filter((change) => change.externalId === task.externalId);
            expect(mine, `one change for ${task.externalId}`).toHaveLength(1);
            expect(mine[0]).toMatchObject({ status: "in_progress", externalStatus: inProgress });
            expect(Number.isNaN(Date.parse(mine[0]!.at))).toBe(false);
          }
          expect(changes.filter((change) => change.externalId === unmoved.externalId)).toEqual([]);

          const first = tasks[0]!;
          await fake.moveTask!(first.externalId, done);
          const now = tasks.map((task, i) => ({
            externalId: task.externalId,
            status: i < moved ? ("in_progress" as const) : ("open" as const),
          }));
          const second = await connector.poll!(config, { tasks: now, since: new Date(Date.now() - 60_000).toISOString() }, ctx);
          expect(second).toHaveLength(1);
          expect(second[0]).toMatchObject({ externalId: first.externalId, status: "done", externalStatus: done });
        });

        it("poll maps tool errors to kinds (503 transient)", async () => {
          const task = await connector.createTask!(config, sampleDraft(), ctx);
          fake.failNext(503);
          const error = await caught(() => connector.poll!(config, { tasks: [{ externalId: task.externalId, status: "open" }] }, ctx));
          expect(error.kind).toBe("transient");
        });
      });
    }
  });
}
