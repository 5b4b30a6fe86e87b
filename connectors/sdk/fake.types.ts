import type { AnyConnector, WebhookRequest } from "./types.js";

/**
 * What every connector's local fake (connectors/<name>/fixtures/fake.ts) offers the one contract
 * suite (connectors/sdk/contract.ts). A fake is a real HTTP server on 127.0.0.1 that speaks the
 * tool's API shape: its endpoints, auth header, JSON, status codes, pagination, signatures.
 */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as received. */
  readonly url: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
}

export interface ToolFake {
  /** e.g. http://127.0.0.1:40123 */
  readonly baseUrl: string;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[];
  /** The next `times` requests answer with this status (and headers) instead of the normal answer. */
  failNext(status: number, options?: { times?: number; headers?: Record<string, string>; body?: unknown }): void;
  /** Changes a task's status inside the tool, as a person would (by the tool's own status name). */
  moveTask?(externalId: string, externalStatus: string): Promise<void>;
  close(): Promise<void>;
}

export interface ContractCase<C = Record<string, unknown>> {
  readonly connector: AnyConnector;
  /** Starts a fresh fake. */
  startFake(): Promise<ToolFake>;
  /** A valid config (secrets merged in) pointing at the fake. */
  config(fake: ToolFake): C;
  /** A config field whose emptying must make configSchema reject (e.g. "apiToken"). */
  readonly requiredField: string;
  /** For webhook connectors: a genuine signed inbound request moving `externalId` to `externalStatus`. */
  webhook?(config: C, externalId: string, externalStatus: string): WebhookRequest;
  /** The tool's status names for in progress and done, as `moveTask` and `webhook` take them. */
  readonly statusNames?: { readonly inProgress: string; readonly done: string };
}
