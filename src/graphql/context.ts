import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
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
}

export interface GraphqlContext extends GraphqlDeps {
  readonly loaders: Loaders;
  readonly requestId: string;
}

/** One context per HTTP request or WebSocket operation, so loaders never serve stale batches. */
export function createContext(deps: GraphqlDeps, requestId: string): GraphqlContext {
  return { ...deps, loaders: createLoaders(deps), requestId };
}
