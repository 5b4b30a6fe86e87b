import { startJiraFake } from "../connectors/jira/fixtures/fake.js";
import { wallClock } from "./support.js";

/**
 * The Jira fake in a process of its own, as the real tool is: in the hub's process its request
 * handling would wait behind the hub's own work and stretch the latency measured. Sends its URL,
 * then `[summary, wall-clock ms]` of each created issue (batched every 5 ms) to the parent.
 */
const fake = await startJiraFake({
  onRequest: (request) => {
    if (request.method !== "POST" || request.url !== "/rest/api/3/issue") return;
    pending.push([String((request.body as { fields?: { summary?: unknown } } | undefined)?.fields?.summary ?? ""), wallClock()]);
  },
});
let pending: [string, number][] = [];
setInterval(() => {
  if (pending.length === 0) return;
  process.send!({ created: pending });
  pending = [];
}, 5);
process.send!({ baseUrl: fake.baseUrl });
process.on("disconnect", () => void fake.close().finally(() => process.exit(0)));
