import { format } from "node:util";
import type { Logger } from "../log/logger.js";

/**
 * node-opcua costs 2-3 s and ~130 MB to import, so it is loaded on first use only: a hub without
 * an OPC UA endpoint never pays for it. Types come from `import type`, which costs nothing.
 */
export type NodeOpcua = typeof import("node-opcua");

let loading: Promise<NodeOpcua> | undefined;

/**
 * Loads node-opcua; its own warnings (multi-line console dumps) go to `log` at debug level, since
 * the hub reports every failure itself with what to do about it.
 */
export function loadNodeOpcua(log?: Logger): Promise<NodeOpcua> {
  loading ??= import("node-opcua").then((ua) => {
    if (log) {
      const child = log.child({ component: "node-opcua" });
      ua.setWarningLogger((...args: unknown[]) => child.debug(format(...args)));
      ua.setErrorLogger((...args: unknown[]) => child.debug(format(...args)));
    }
    return ua;
  });
  return loading;
}
