import { header, hmacSha256Hex, safeEqual } from "../sdk/webhook.js";
import type { StatusChange, WebhookRequest } from "../sdk/index.js";
import type { ServiceNowConfig } from "./config.js";
import { changeFromIncident, incidentSchema } from "./mapping.js";

/**
 * ServiceNow has no signed webhooks: a business rule on the incident table posts the changed
 * record to the hub with its own credential. It sends `Authorization: Bearer <inboundToken>` and,
 * so a changed body is caught too, `X-Plantgraph-Signature: <base64 HMAC-SHA256 of the body>`
 * keyed with the same token (GlideCertificateEncryption.generateMac). A sketch of the rule (after
 * update, condition `current.state.changes()`):
 *
 *   var token = gs.getProperty('x_plantgraph.inbound_token');
 *   var body = JSON.stringify({ sys_id: current.getUniqueValue(), state: current.getValue('state'),
 *     sys_updated_by: current.getValue('sys_updated_by'), sys_updated_on: current.getValue('sys_updated_on') });
 *   var mac = new GlideCertificateEncryption().generateMac(GlideStringUtil.base64Encode(token), 'HmacSHA256', body);
 *   var r = new sn_ws.RESTMessageV2();
 *   r.setEndpoint('<hub>/webhooks/<integration id>'); r.setHttpMethod('post');
 *   r.setRequestHeader('Authorization', 'Bearer ' + token);
 *   r.setRequestHeader('X-Plantgraph-Signature', mac);
 *   r.setRequestHeader('Content-Type', 'application/json');
 *   r.setRequestBody(body);
 *   r.executeAsync();
 */
export const signatureHeader = "x-plantgraph-signature";

/** The signature the business rule sends for `body`. */
export function serviceNowSignature(inboundToken: string, body: Buffer | string): string {
  return Buffer.from(hmacSha256Hex(inboundToken, body), "hex").toString("base64");
}

export function verifyServiceNowCall(config: ServiceNowConfig, request: WebhookRequest): boolean {
  const authorization = header(request, "authorization");
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const signature = header(request, signatureHeader);
  // Both checks always run, so timing does not tell which one failed.
  const tokenOk = match?.[1] !== undefined && safeEqual(match[1], config.inboundToken);
  const bodyOk = signature !== undefined && safeEqual(signature.trim(), serviceNowSignature(config.inboundToken, request.body));
  return tokenOk && bodyOk;
}

const stateCallSchema = incidentSchema.pick({ sys_id: true, state: true, sys_updated_by: true, sys_updated_on: true });

export function parseServiceNowCall(config: ServiceNowConfig, request: WebhookRequest, now: Date): StatusChange[] {
  let json: unknown;
  try {
    json = JSON.parse(request.body.toString("utf8"));
  } catch {
    return [];
  }
  const call = stateCallSchema.safeParse(json);
  if (!call.success) return [];
  const change = changeFromIncident(config, call.data, now);
  return change ? [change] : [];
}

