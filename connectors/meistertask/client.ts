import { apiClient, bearerAuth, type ConnectorContext } from "../sdk/index.js";
import type { MeisterTaskConfig } from "./config.js";

/** One request to the MeisterTask REST API (`<baseUrl>/api/...`, Bearer token). */
export const meisterTaskRequest = apiClient(
  (config: MeisterTaskConfig) => `${config.baseUrl}/api`,
  (config) => ({ authorization: bearerAuth(config.apiToken) }),
);

/** The most a page may hold (`items`); the API may return fewer, so callers walk pages until one is empty. */
export const PAGE_ITEMS = 500;
const MAX_PAGES = 200;

/** Every item of a paged list (`items` + `page`, 1-based), walking until an empty page. */
export async function listAll<T>(
  config: MeisterTaskConfig,
  ctx: ConnectorContext,
  path: string,
  query: Readonly<Record<string, string | undefined>> = {},
): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const { body } = await meisterTaskRequest<T[] | undefined>(config, ctx, { method: "GET", path, query: { ...query, items: PAGE_ITEMS, page } });
    if (!Array.isArray(body) || body.length === 0) return all;
    all.push(...body);
  }
  ctx.log.warn({ path, pages: MAX_PAGES }, "meistertask list stopped at the page limit");
  return all;
}
