import type { Notification } from "../sdk/index.js";

const severityColor: Record<Notification["severity"], string> = { info: "Accent", warning: "Warning", critical: "Attention" };

export interface TeamsMessage {
  readonly type: "message";
  readonly attachments: readonly object[];
}

/**
 * The Workflows trigger's message: one Adaptive Card attachment (schema 1.4) with the title,
 * the text, the facts as a FactSet and an Action.OpenUrl when there is a link.
 */
export function teamsMessage(notification: Notification): TeamsMessage {
  const facts = Object.entries(notification.facts).map(([title, value]) => ({ title, value }));
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: notification.title, size: "Large", weight: "Bolder", wrap: true, color: severityColor[notification.severity] },
            { type: "TextBlock", text: notification.text, wrap: true },
            ...(facts.length > 0 ? [{ type: "FactSet", facts }] : []),
            { type: "TextBlock", text: notification.key, isSubtle: true, size: "Small", wrap: true },
          ],
          actions: notification.link ? [{ type: "Action.OpenUrl", title: "Open in plantgraph", url: notification.link }] : [],
        },
      },
    ],
  };
}
