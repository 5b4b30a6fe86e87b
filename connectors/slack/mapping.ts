import type { Notification } from "../sdk/index.js";

const severityLabel: Record<Notification["severity"], string> = {
  info: ":information_source: Info",
  warning: ":warning: Warning",
  critical: ":rotating_light: Critical",
};

/** Slack's mrkdwn needs only &, < and > escaped. */
const escape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * The incoming-webhook payload: `text` (the notification fallback) and Block Kit blocks — header
 * (plain text, max 150), section (max 3000), fields (max 10, each max 2000), context, link button.
 */
export function slackMessage(notification: Notification): { text: string; blocks: object[] } {
  const facts = Object.entries(notification.facts).slice(0, 10);
  return {
    text: escape(`${notification.title}: ${notification.text}`),
    blocks: [
      { type: "header", text: { type: "plain_text", text: cut(notification.title, 150), emoji: true } },
      { type: "section", text: { type: "mrkdwn", text: cut(escape(notification.text), 3000) } },
      ...(facts.length > 0
        ? [{ type: "section", fields: facts.map(([name, value]) => ({ type: "mrkdwn", text: cut(`*${escape(name)}*\n${escape(value)}`, 2000) })) }]
        : []),
      { type: "context", elements: [{ type: "mrkdwn", text: `${severityLabel[notification.severity]} · ${escape(notification.key)}` }] },
      ...(notification.link
        ? [{ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Open in plantgraph" }, url: notification.link }] }]
        : []),
    ],
  };
}
