import { ConnectorError, defineConnector, type ConnectorContext, type StatusChange } from "../sdk/index.js";
import { listAll, meisterTaskRequest } from "./client.js";
import { meisterTaskConfigSchema, type MeisterTaskConfig } from "./config.js";
import { canonicalStatus, hasKey, toCreateTaskBody, toExternalTask, toStatusBody, type MeisterTaskTask } from "./mapping.js";

/** The tool's timestamp as ISO, or `fallback` when it has none that parses. */
const isoOr = (value: string | null | undefined, fallback: Date): string => {
  const ms = value ? Date.parse(value) : Number.NaN;
  return new Date(Number.isNaN(ms) ? fallback.getTime() : ms).toISOString();
};

const getTask = async (config: MeisterTaskConfig, id: string, ctx: ConnectorContext): Promise<MeisterTaskTask> =>
  (await meisterTaskRequest<MeisterTaskTask>(config, ctx, { method: "GET", path: `/tasks/${encodeURIComponent(id)}` })).body;

const projectTasks = (config: MeisterTaskConfig, ctx: ConnectorContext, status?: string): Promise<MeisterTaskTask[]> =>
  listAll<MeisterTaskTask>(config, ctx, `/projects/${config.projectId}/tasks`, { status });

/**
 * MeisterTask: tasks in one project's columns. No webhooks, so status comes back by polling the
 * project's task list (paged by `items`/`page`); tracked tasks the open list no longer shows
 * (completed, trashed) are read one by one.
 */
export const meisterTaskConnector = defineConnector<MeisterTaskConfig>({
  kind: "meistertask",
  displayName: "MeisterTask",
  capabilities: { tasks: true, notify: false, webhook: false, poll: true },
  configSchema: meisterTaskConfigSchema,
  secretKeys: ["apiToken"],
  // MeisterTask documents no limit and sends no rate-limit headers; it answers 429 when pushed.
  rateLimit: { max: 2, durationMs: 1000 },

  async verifyConfig(config, ctx) {
    const { body } = await meisterTaskRequest<{ project_id?: number }>(config, ctx, { method: "GET", path: `/sections/${config.sectionId}` });
    if (body.project_id !== undefined && String(body.project_id) !== config.projectId) {
      throw new ConnectorError("rejected", `MeisterTask section ${config.sectionId} is not in project ${config.projectId}`);
    }
  },

  async createTask(config, draft, ctx) {
    const { body } = await meisterTaskRequest<MeisterTaskTask>(config, ctx, {
      method: "POST",
      path: `/sections/${config.sectionId}/tasks`,
      json: toCreateTaskBody(draft),
    });
    return toExternalTask(config, body);
  },

  async findTask(config, key, ctx) {
    // Open tasks first; a task completed since would otherwise be created again.
    for (const status of [undefined, "completed"]) {
      const found = (await projectTasks(config, ctx, status)).find((task) => hasKey(task, key));
      if (found) return toExternalTask(config, found);
    }
    return undefined;
  },

  async updateTask(config, update, ctx) {
    const id = encodeURIComponent(update.externalId);
    let task: MeisterTaskTask | undefined;
    if (update.status) {
      const body = toStatusBody(config, update.status);
      if (!body) throw new ConnectorError("rejected", `MeisterTask: set inProgressSectionId to move tasks to ${update.status}`);
      task = (await meisterTaskRequest<MeisterTaskTask>(config, ctx, { method: "PUT", path: `/tasks/${id}`, json: body })).body;
    }
    if (update.comment) {
      await meisterTaskRequest(config, ctx, { method: "POST", path: `/tasks/${id}/comments`, json: { text: update.comment } });
    }
    return toExternalTask(config, task ?? (await getTask(config, update.externalId, ctx)));
  },

  async poll(config, input, ctx) {
    if (input.tasks.length === 0) return [];
    const listed = new Map((await projectTasks(config, ctx)).map((task) => [String(task.id), task]));
    const changes: StatusChange[] = [];
    for (const tracked of input.tasks) {
      let task = listed.get(tracked.externalId);
      if (!task) {
        try {
          task = await getTask(config, tracked.externalId, ctx);
        } catch (error) {
          // A task deleted in the tool is gone for good: report it cancelled rather than failing the poll.
          if (error instanceof ConnectorError && error.kind === "not_found") {
            if (tracked.status !== "cancelled") {
              changes.push({ externalId: tracked.externalId, status: "cancelled", externalStatus: "deleted", at: ctx.now().toISOString() });
            }
            continue;
          }
          throw error;
        }
      }
      const { status, externalStatus } = canonicalStatus(config, task);
      if (status === tracked.status) continue;
      changes.push({
        externalId: tracked.externalId,
        status,
        externalStatus,
        at: isoOr(task.status_updated_at ?? task.updated_at, ctx.now()),
      });
    }
    return changes;
  },
});
