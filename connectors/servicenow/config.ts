import { z } from "zod";
import { taskStatuses } from "../sdk/index.js";

/**
 * A ServiceNow integration: the Table API on `instanceUrl` with Basic auth, and an inbound token a
 * business rule on the instance sends back (`Authorization: Bearer <inboundToken>`) when an
 * incident's state changes. The integration user should keep the UTC time zone: Table API
 * date-times (`sys_updated_on`) are in the user's zone and carry no offset.
 */

/** Incident `state` values of a stock instance and where they stand. */
export const defaultStatusMap = {
  "1": "open", // New
  "2": "in_progress", // In Progress
  "3": "in_progress", // On Hold
  "6": "done", // Resolved
  "7": "done", // Closed
  "8": "cancelled", // Canceled
} as const;

export const serviceNowConfigSchema = z.object({
  instanceUrl: z
    .url({ protocol: /^https?$/ })
    .transform((url) => url.replace(/\/+$/, "")),
  username: z.string().min(1),
  password: z.string().min(1),
  /** The credential the instance's business rule presents when it posts a state change to the hub. */
  inboundToken: z.string().min(16),
  /** Incident `state` value → canonical status. */
  statusMap: z.record(z.string().regex(/^-?\d+$/), z.enum(taskStatuses)).default(defaultStatusMap),
  /** sys_id or name of the assignment group new incidents go to. */
  assignmentGroup: z.string().min(1).optional(),
  /** sys_id or user name of the caller new incidents are raised for. */
  callerId: z.string().min(1).optional(),
  /** Resolution code set when the hub resolves an incident (the instance requires one). */
  closeCode: z.string().min(1).default("Solution provided"),
});

export type ServiceNowConfig = z.infer<typeof serviceNowConfigSchema>;

export const serviceNowSecretKeys = ["password", "inboundToken"] as const;
