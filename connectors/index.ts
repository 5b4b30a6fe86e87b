import { builtinConnector } from "./builtin/index.js";
import { jiraConnector } from "./jira/index.js";
import { meisterTaskConnector } from "./meistertask/index.js";
import { redmineConnector } from "./redmine/index.js";
import type { AnyConnector } from "./sdk/types.js";
import { serviceNowConnector } from "./servicenow/index.js";
import { slackConnector } from "./slack/index.js";
import { teamsConnector } from "./teams/index.js";
import { webhookConnector } from "./webhook/index.js";

/** Every connector the hub ships, by kind. Adding a tool means one folder and one line here. */
export const connectors: ReadonlyMap<string, AnyConnector> = new Map(
  [builtinConnector, jiraConnector, meisterTaskConnector, serviceNowConnector, redmineConnector, webhookConnector, slackConnector, teamsConnector].map(
    (c): [string, AnyConnector] => [c.kind, c],
  ),
);

export function connectorFor(kind: string): AnyConnector | undefined {
  return connectors.get(kind);
}
