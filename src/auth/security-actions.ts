/** The closed list of security-relevant actions; adding a place that records means adding one here. */
export const securityActions = [
  "auth.failed",
  "auth.denied",
  "apikey.created",
  "apikey.revoked",
  "demo_key.issued",
  "integration.secrets_set",
  "opcua_endpoint.secrets_set",
  "opcua.certificate_trusted",
  "secrets.rotated",
  "rate_limit.exceeded",
  "webhook.rejected",
] as const;
export type SecurityAction = (typeof securityActions)[number];
