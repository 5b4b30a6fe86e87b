import { apiClient, basicAuth } from "../sdk/index.js";
import type { JiraConfig } from "./config.js";

/** One request to the Jira Cloud REST API: the site's base URL and Basic `email:apiToken`. */
export const jiraRequest = apiClient(
  (config: JiraConfig) => config.baseUrl,
  (config) => ({ authorization: basicAuth(config.email, config.apiToken) }),
);
