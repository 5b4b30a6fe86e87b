import { z } from "zod";

/**
 * A Microsoft Teams Workflows webhook ("Post to a channel when a webhook request is received";
 * the old Office 365 connectors are retired). The URL, with its `sig=` signature, is the secret.
 * It must be https on a Power Automate / Logic Apps host; `allowInsecureUrl: true` additionally
 * admits a loopback URL for local fakes and tests, never another host.
 */
export const teamsConfigSchema = z
  .object({
    webhookUrl: z.url(),
    allowInsecureUrl: z.boolean().default(false),
  })
  .refine((config) => teamsUrlOk(config.webhookUrl, config.allowInsecureUrl), {
    path: ["webhookUrl"],
    message: "must be a Teams Workflows webhook URL (https://…logic.azure.com, …powerplatform.com or …powerautomate.com)",
  });

export type TeamsConfig = z.infer<typeof teamsConfigSchema>;

export const teamsSecretKeys = ["webhookUrl"] as const;

const WORKFLOW_HOST = /(^|\.)(logic\.azure\.com|powerplatform\.com|powerautomate\.com|flow\.microsoft\.com)$/;

export function teamsUrlOk(url: string, allowInsecureUrl: boolean): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol, hostname } = new URL(url);
  if (protocol === "https:" && WORKFLOW_HOST.test(hostname)) return true;
  return allowInsecureUrl && ["127.0.0.1", "localhost", "[::1]"].includes(hostname);
}
