import express, { type Router } from "express";
import { webhookDeliveries } from "../../schema/db/tasks.js";
import { recordAudit } from "../audit/audit.js";
import { recordSecurityEvent } from "../auth/security-events.js";
import type { Database } from "../db/database.js";
import type { JobEnqueuer } from "../events/after-commit.js";
import { connectorContext, IntegrationConfigError, readyIntegration } from "../integrations/connector-config.js";
import type { Logger } from "../log/logger.js";
import type { SecretBox } from "../secrets/secret-box.js";
import { requestIdFrom } from "./request-id.js";

const BODY_LIMIT_BYTES = 1024 * 1024;
/** Credentials never reach the database; the signature header stays (it proves nothing to a thief). */
const DROPPED_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

export interface WebhookRouteDeps {
  database: Database;
  box: SecretBox | undefined;
  queues: JobEnqueuer | undefined;
  log: Logger;
}

/**
 * POST /webhooks/:integrationId — verify with the integration's connector, store the delivery,
 * enqueue webhook.apply, answer 202. Bad signatures get 401 and a security event; nothing else
 * about the integration is revealed to an unauthenticated caller.
 */
export function webhookRouter(deps: WebhookRouteDeps): Router {
  const router = express.Router();
  const log = deps.log.child({ component: "webhooks" });
  router.post("/webhooks/:integrationId", express.raw({ type: () => true, limit: BODY_LIMIT_BYTES }), async (req, res) => {
    const requestId = requestIdFrom(req.headers);
    res.setHeader("x-request-id", requestId);
    const id = Number(req.params.integrationId);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      const ready = Number.isSafeInteger(id) && id > 0 && id <= 2_147_483_647 ? await readyIntegration(deps.database.db, deps.box, id) : undefined;
      if (!ready?.connector.verifyWebhook) {
        res.status(404).json({ error: "no integration here takes webhooks" });
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(", ") : v]));
      if (!ready.connector.verifyWebhook(ready.config, { headers, body }, connectorContext(log))) {
        await recordSecurityEvent(deps.database.db, {
          action: "webhook.rejected",
          actor: `address:${req.socket.remoteAddress ?? "unknown"}`,
          outcome: "denied",
          resource: `integration:${id}`,
          detail: { reason: "signature or credential did not verify", bytes: body.length },
          requestId,
        });
        log.warn({ integrationId: id, requestId }, "webhook rejected: signature did not verify");
        res.status(401).json({ error: "signature did not verify" });
        return;
      }
      const kept = Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => typeof e[1] === "string" && !DROPPED_HEADERS.has(e[0])));
      const delivery = await deps.database.db.transaction(async (tx) => {
        const [row] = await tx.insert(webhookDeliveries).values({ integrationId: id, headers: kept, body: body.toString("utf8") }).returning({ id: webhookDeliveries.id });
        await recordAudit(tx, { actor: `tool:${id}`, action: "webhook.received", entityType: "webhook_delivery", entityId: row!.id, newValue: { integrationId: id, bytes: body.length }, requestId });
        return row;
      });
      await deps.queues?.enqueue([{ item: { name: "webhook.apply", data: { deliveryId: delivery!.id } } }]);
      res.status(202).json({ deliveryId: delivery!.id });
    } catch (error) {
      const misconfigured = error instanceof IntegrationConfigError;
      log.error({ err: error, integrationId: id, requestId }, "webhook not accepted");
      res.status(misconfigured ? 409 : 503).json({ error: misconfigured ? "integration is misconfigured" : "try again later", requestId });
    }
  });
  return router;
}
