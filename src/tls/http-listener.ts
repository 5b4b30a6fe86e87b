import http from "node:http";
import https from "node:https";
import type { HttpsCredentials } from "./tls-files.js";

/**
 * The hub's listener: HTTPS when a certificate is configured, plain HTTP otherwise. Both carry the
 * GraphQL WebSocket upgrades (wss:// on HTTPS), and https.Server is an http.Server to the callers.
 */
export function createListener(app: http.RequestListener, tls?: HttpsCredentials): http.Server {
  return tls ? https.createServer({ cert: tls.cert, key: tls.key }, app) : http.createServer(app);
}
