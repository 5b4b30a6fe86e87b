import { z } from "zod";

/**
 * A Slack incoming webhook. The URL is the secret. It must be `https://hooks.slack.com/...`;
 * `allowInsecureUrl: true` additionally admits a loopback URL (http://127.0.0.1, localhost, [::1])
 * for local fakes and tests — never another host, so the flag cannot aim the hub at the network.
 */
export const slackConfigSchema = z
  .object({
    webhookUrl: z.url(),
    allowInsecureUrl: z.boolean().default(false),
  })
  .refine((config) => slackUrlProblem(config.webhookUrl, config.allowInsecureUrl) === undefined, {
    path: ["webhookUrl"],
    message: "must be a Slack incoming webhook URL (https://hooks.slack.com/services/...)",
  });

export type SlackConfig = z.infer<typeof slackConfigSchema>;

export const slackSecretKeys = ["webhookUrl"] as const;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Why the URL is not acceptable, or undefined when it is. */
export function slackUrlProblem(url: string, allowInsecureUrl: boolean): string | undefined {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed) return "not a URL";
  if (parsed.protocol === "https:" && parsed.hostname === "hooks.slack.com" && parsed.pathname.length > 1) return undefined;
  if (allowInsecureUrl && LOOPBACK.has(parsed.hostname)) return undefined;
  return "not https://hooks.slack.com";
}
