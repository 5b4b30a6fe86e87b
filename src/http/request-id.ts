import { randomUUID } from "node:crypto";
import type http from "node:http";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's x-request-id when it looks like an id (it ends up in logs), else a fresh one. */
export function requestIdFrom(headers: http.IncomingHttpHeaders): string {
  const given = headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}
