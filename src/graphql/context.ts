import type { Authenticator } from "../auth/authentication.js";
import type { Identity } from "../auth/identity.js";
import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import type { JobEnqueuer, PlannedJob } from "../events/after-commit.js";
import type { Logger } from "../log/logger.js";
import type { OpcuaOperations } from "../opcua/opcua.operations.js";
import type { HubPubSub } from "../pubsub/pubsub.js";
import type { LatestValues } from "../telemetry/latest-values.js";
import { createLoaders, type Loaders } from "./loaders.js";

/** What resolvers may use: they read through queries and loaders, and publish; no other I/O. */
export interface GraphqlDeps {
  readonly config: Config;
  readonly database: Database;
  readonly pubsub: HubPubSub;
  readonly latest: LatestValues;
  readonly log: Logger;
  readonly authenticator: Authenticator;
  /** Where replays and inbound webhooks enqueue; absent without Redis (jobs wait for reconcile). */
  /** Browsing (and the other operations) on OPC UA endpoints; absent in tests that do not need it. */
  readonly opcua?: OpcuaOperations;
  readonly queues?: JobEnqueuer & { requeue(jobs: readonly PlannedJob[]): Promise<number>; counts(queue: string): Promise<Record<string, number>> };
}

export interface GraphqlContext extends GraphqlDeps {
  readonly loaders: Loaders;
  readonly requestId: string;
  /** Who is asking; resolvers show only what this identity's role and sites allow. */
  readonly identity: Identity;
}

/** One context per HTTP request or WebSocket operation, so loaders never serve stale batches. */
export function createContext(deps: GraphqlDeps, requestId: string, identity: Identity): GraphqlContext {
  return { ...deps, loaders: createLoaders(deps), requestId, identity };
}

/** Who made a change and in which request, as services record it. */
export const actorOf = (ctx: GraphqlContext) => ({ actor: ctx.identity.id, requestId: ctx.requestId });
