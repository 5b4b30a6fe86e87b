/**
 * node-opcua costs 2-3 s and ~130 MB to import, so it is loaded on first use only: a hub without
 * an OPC UA endpoint never pays for it. Types come from `import type`, which costs nothing.
 */
export type NodeOpcua = typeof import("node-opcua");

let loading: Promise<NodeOpcua> | undefined;

export function loadNodeOpcua(): Promise<NodeOpcua> {
  loading ??= import("node-opcua");
  return loading;
}
