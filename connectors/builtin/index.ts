import { defineConnector } from "../sdk/index.js";
import { builtinConfigSchema, type BuiltinConfig } from "./config.js";

/**
 * The hub's own task board (the default in the embedded demo). No I/O at all: the hub's task table
 * is the board and already guards idempotency, so there is no findTask. The external id is the
 * draft's key; a status update simply becomes the new status.
 */
export const builtinConnector = defineConnector<BuiltinConfig>({
  kind: "builtin",
  displayName: "Built-in board",
  capabilities: { tasks: true, notify: false, webhook: false, poll: false },
  configSchema: builtinConfigSchema,
  secretKeys: [],
  rateLimit: { max: 100, durationMs: 1000 },

  verifyConfig: async () => {},
  createTask: async (_config, draft) => ({ externalId: draft.key, status: "open", externalStatus: "open" }),
  updateTask: async (_config, update) => {
    // Without a status the board's current status lives in the hub's table; "open" is what we know here.
    const status = update.status ?? "open";
    return { externalId: update.externalId, status, externalStatus: status };
  },
});
