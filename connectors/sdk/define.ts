import type { Connector } from "./types.js";

/**
 * Checks at definition time what the type system cannot: the capabilities a connector claims
 * match the functions it has, so the hub can trust `capabilities` without probing.
 */
export function defineConnector<C>(connector: Connector<C>): Connector<C> {
  const { capabilities: can, kind } = connector;
  const needs: [boolean, string, unknown][] = [
    [can.tasks, "createTask", connector.createTask],
    [can.tasks, "updateTask", connector.updateTask],
    [can.notify, "notify", connector.notify],
    [can.webhook, "verifyWebhook", connector.verifyWebhook],
    [can.webhook, "parseWebhook", connector.parseWebhook],
    [can.poll, "poll", connector.poll],
  ];
  for (const [claimed, name, fn] of needs) {
    if (claimed && typeof fn !== "function") throw new Error(`connector ${kind}: capability needs ${name}`);
    if (!claimed && fn !== undefined) throw new Error(`connector ${kind}: ${name} given but its capability is off`);
  }
  return Object.freeze(connector);
}
