import { z } from "zod";
import { defineConnector } from "../sdk/index.js";
import type { ConnectorContext, StatusChange } from "../sdk/index.js";
import { nextLink, serviceNowRequest } from "./client.js";
import { serviceNowConfigSchema, serviceNowSecretKeys } from "./config.js";
import type { ServiceNowConfig } from "./config.js";
import {
  changeFromIncident,
  glideFromIso,
  incidentFields,
  incidentFromDraft,
  incidentPatch,
  incidentSchema,
  taskFromIncident,
} from "./mapping.js";
import { parseServiceNowCall, verifyServiceNowCall } from "./webhook.js";

const TABLE = "/api/now/table/incident";
/** Ids per poll query (keeps the URL short) and records per page. */
const POLL_IDS = 100;
const PAGE_SIZE = 100;
const MAX_PAGES = 1_000;

const oneResult = z.object({ result: incidentSchema });
const manyResults = z.object({ result: z.array(incidentSchema) });

const readParams = {
  sysparm_fields: incidentFields.join(","),
  sysparm_exclude_reference_link: true,
} as const;

/**
 * ServiceNow incidents through the Table API. Idempotency key in `correlation_id`; status back by a
 * business rule calling the hub (bearer token) and by polling `sys_updated_on`.
 */
export const serviceNowConnector = defineConnector<ServiceNowConfig>({
  kind: "servicenow",
  displayName: "ServiceNow",
  capabilities: { tasks: true, notify: false, webhook: true, poll: true },
  configSchema: serviceNowConfigSchema,
  secretKeys: serviceNowSecretKeys,
  // Instance rate-limit rules are per hour and set by the customer; 429 + Retry-After does the rest.
  rateLimit: { max: 5, durationMs: 1_000 },

  async verifyConfig(config, ctx) {
    await serviceNowRequest(config, ctx, "GET", TABLE, { query: { sysparm_limit: 1, sysparm_fields: "sys_id" } });
  },

  async createTask(config, draft, ctx) {
    const response = await serviceNowRequest(config, ctx, "POST", TABLE, {
      json: incidentFromDraft(config, draft),
      query: readParams,
    });
    return taskFromIncident(config, oneResult.parse(response.body).result);
  },

  async updateTask(config, update, ctx) {
    const response = await serviceNowRequest(config, ctx, "PATCH", `${TABLE}/${encodeURIComponent(update.externalId)}`, {
      json: incidentPatch(config, update),
      query: readParams,
    });
    return taskFromIncident(config, oneResult.parse(response.body).result);
  },

  async findTask(config, key, ctx) {
    const response = await serviceNowRequest(config, ctx, "GET", TABLE, {
      query: { ...readParams, sysparm_query: `correlation_id=${key}`, sysparm_limit: 1 },
    });
    const [incident] = manyResults.parse(response.body).result;
    return incident ? taskFromIncident(config, incident) : undefined;
  },

  verifyWebhook: (config, request) => verifyServiceNowCall(config, request),
  parseWebhook: (config, request, ctx) => parseServiceNowCall(config, request, ctx.now()),

  async poll(config, input, ctx) {
    const known = new Map(input.tasks.map((task) => [task.externalId, task.status]));
    const ids = [...known.keys()];
    const changes: StatusChange[] = [];
    for (let i = 0; i < ids.length; i += POLL_IDS) {
      const conditions = [`sys_idIN${ids.slice(i, i + POLL_IDS).join(",")}`];
      if (input.since) conditions.push(`sys_updated_on>=${glideFromIso(input.since)}`);
      for await (const incident of listIncidents(config, ctx, `${conditions.join("^")}^ORDERBYsys_id`)) {
        const change = changeFromIncident(config, incident, ctx.now());
        if (change && change.status !== known.get(change.externalId)) changes.push(change);
      }
    }
    return changes;
  },
});

/**
 * Every incident matching an encoded query, page by page: the `Link` header's `rel="next"`, or
 * `X-Total-Count` with `sysparm_offset` when an instance (or proxy) drops `Link`.
 */
async function* listIncidents(config: ServiceNowConfig, ctx: ConnectorContext, sysparmQuery: string) {
  const first = { ...readParams, sysparm_query: sysparmQuery, sysparm_limit: PAGE_SIZE };
  let target: URL | undefined;
  let offset = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = target
      ? await serviceNowRequest(config, ctx, "GET", target)
      : await serviceNowRequest(config, ctx, "GET", TABLE, { query: { ...first, sysparm_offset: offset } });
    const { result } = manyResults.parse(response.body);
    yield* result;
    offset += result.length;
    target = nextLink(config, response.headers.get("link"));
    if (target) continue;
    const total = response.headers.get("x-total-count");
    const more = total === null ? result.length >= PAGE_SIZE : offset < Number(total);
    if (result.length === 0 || !more) return;
  }
  ctx.log.warn({ kind: "servicenow", pages: MAX_PAGES }, "servicenow poll stopped at the page limit");
}
