import type { z } from "zod";

/**
 * The connector contract. A connector is a plain object made by `defineConnector`: no classes, no
 * `this`; every function takes `(config, input, ctx)`. `config` is the integration's validated
 * settings with its secrets merged in (the fields named by `secretKeys`). Connectors import only
 * this SDK and zod, never the hub's `src/`.
 */

/** Where a task stands, whatever the tool calls it. */
export const taskStatuses = ["open", "in_progress", "done", "cancelled"] as const;
export type TaskStatus = (typeof taskStatuses)[number];

export const taskPriorities = ["low", "medium", "high", "critical"] as const;
export type TaskPriority = (typeof taskPriorities)[number];

/** What the hub asks a tool to create. Text is already rendered from the automation's templates. */
export interface TaskDraft {
  /**
   * Our idempotency key (`pg-e<event>-<action>`), stored in the tool where it can be searched
   * (a label, a property, a correlation field) so `findTask` can find a task created before a crash.
   */
  readonly key: string;
  readonly title: string;
  readonly description: string;
  readonly assignee?: string;
  /** ISO date (YYYY-MM-DD). */
  readonly dueDate?: string;
  readonly labels: readonly string[];
  readonly priority: TaskPriority;
  /** A link back to the hub (machine or alarm page), when the hub knows its public URL. */
  readonly link?: string;
}

/** A task as it exists in the tool. */
export interface ExternalTask {
  /** The tool's id, used for every later call (Jira issue id, ServiceNow sys_id, ...). */
  readonly externalId: string;
  /** The human key people see (PROJ-12, INC0010001), when it differs from the id. */
  readonly externalKey?: string;
  /** A link a person can open. */
  readonly url?: string;
  readonly status: TaskStatus;
  /** The tool's own name for the status ("In Progress", "3", "completed"). */
  readonly externalStatus: string;
}

/** A change the hub pushes to an existing task: a new status, a comment, or both. */
export interface TaskUpdate {
  readonly externalId: string;
  readonly status?: TaskStatus;
  readonly comment?: string;
}

/** A message for a channel (Slack, Teams, a webhook). */
export interface Notification {
  readonly key: string;
  readonly title: string;
  readonly text: string;
  readonly severity: "info" | "warning" | "critical";
  readonly link?: string;
  /** Short label/value pairs shown as a table (machine, value, limit ...). */
  readonly facts: Readonly<Record<string, string>>;
}

/** One status change reported by the tool (webhook or poll), in canonical terms. */
export interface StatusChange {
  readonly externalId: string;
  readonly status: TaskStatus;
  readonly externalStatus: string;
  /** Who made the change in the tool, when it says. */
  readonly actor?: string;
  /** ISO timestamp of the change in the tool, or when it was seen. */
  readonly at: string;
}

/** An inbound HTTP call, as received: header names lower-cased, the body as raw bytes. */
export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export interface PollInput {
  /** The open tasks the hub tracks in this integration. */
  readonly tasks: readonly { readonly externalId: string; readonly status: TaskStatus }[];
  /** When the previous successful poll started (ISO), if there was one. */
  readonly since?: string;
}

export interface ConnectorLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ConnectorContext {
  readonly fetch: typeof fetch;
  readonly log: ConnectorLog;
  readonly signal: AbortSignal;
  readonly now: () => Date;
}

export interface ConnectorCapabilities {
  /** createTask/updateTask exist. */
  readonly tasks: boolean;
  /** notify exists. */
  readonly notify: boolean;
  /** Status comes back by webhook: verifyWebhook and parseWebhook exist. */
  readonly webhook: boolean;
  /** Status comes back by polling: poll exists. */
  readonly poll: boolean;
}

export interface Connector<C = Record<string, unknown>> {
  readonly kind: string;
  readonly displayName: string;
  readonly capabilities: ConnectorCapabilities;
  /** Validates config and secrets together (the merged object). */
  readonly configSchema: z.ZodType<C>;
  /** Fields of the config that are secrets: stored encrypted, never shown. */
  readonly secretKeys: readonly string[];
  /** The tool's rate limit; the hub gives the connector's queue this limiter. */
  readonly rateLimit: { readonly max: number; readonly durationMs: number };
  /** Checks the settings against the tool (a cheap authenticated call). Throws ConnectorError. */
  verifyConfig(config: C, ctx: ConnectorContext): Promise<void>;
  createTask?(config: C, draft: TaskDraft, ctx: ConnectorContext): Promise<ExternalTask>;
  updateTask?(config: C, update: TaskUpdate, ctx: ConnectorContext): Promise<ExternalTask>;
  /** Finds a task created earlier with this idempotency key; undefined when there is none. */
  findTask?(config: C, key: string, ctx: ConnectorContext): Promise<ExternalTask | undefined>;
  notify?(config: C, notification: Notification, ctx: ConnectorContext): Promise<void>;
  /** True when the request is authentic (signature, timestamp window, credential). Never throws. */
  verifyWebhook?(config: C, request: WebhookRequest, ctx: ConnectorContext): boolean;
  /** Canonical status changes in a verified request; [] for events the hub does not care about. */
  parseWebhook?(config: C, request: WebhookRequest, ctx: ConnectorContext): StatusChange[];
  poll?(config: C, input: PollInput, ctx: ConnectorContext): Promise<StatusChange[]>;
}

/** Any connector, whatever its config type: what registries and the hub hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyConnector = Connector<any>;
