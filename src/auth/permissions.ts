import { accessRoles, type AccessRole, type Identity } from "./identity.js";

/**
 * The authorization matrix: which roles may exercise each permission. README.md shows the same
 * table; test/integration/authorization-matrix.test.ts walks every GraphQL operation against it.
 * Site scope applies on top: objects of sites outside an identity's scope are invisible.
 */
const everyone = accessRoles;

export const permissionMatrix = {
  /** The asset hierarchy: enterprises, sites, areas, lines, machines, data points. */
  "asset.read": everyone,
  /** Latest values, series and live readings. */
  "telemetry.read": everyone,
  /** Messages the hub refused, with their payloads. */
  "quarantine.read": ["technician", "engineer", "auditor", "admin"],
  /** Create, change and delete machines and data points. */
  "asset.manage": ["engineer", "admin"],
  /** List, create and revoke API keys. */
  "apikey.manage": ["admin"],
  /** Read the security event log. */
  "security_event.read": ["auditor", "admin"],
  /** See configured integrations (never their secrets). */
  "integration.read": ["engineer", "auditor", "admin"],
  /** Create, change, delete integrations and set their secrets. */
  "integration.manage": ["engineer", "admin"],
  /** See OPC UA endpoints, their health and data gaps (never their secrets). */
  "opcua.read": ["technician", "engineer", "auditor", "admin"],
  /** Create, change, delete OPC UA endpoints, set their secrets, and browse their servers. */
  "opcua.manage": ["engineer", "admin"],
  /** Create, change and delete rules on machines' data points. */
  "rule.manage": ["engineer", "admin"],
  /** See alarms and follow their changes. */
  "alarm.read": everyone,
  /** Acknowledge, shelve and unshelve alarms. */
  "alarm.acknowledge": ["operator", "technician", "engineer", "admin"],
  /** See the automations (plant-wide: not tied to a site). */
  "automation.read": ["planner", "engineer", "auditor", "admin"],
  /** Create, change and delete automations. */
  "automation.manage": ["engineer", "admin"],
  /** See tasks and follow their changes. */
  "task.read": everyone,
  /** Change the status of tasks on the built-in board. */
  "task.update": ["operator", "technician", "engineer", "admin"],
  /** See lots, their genealogy (traces), parameters, quality results and events. */
  "trace.read": everyone,
  /** Start and end lots, record consumed components and quality results. */
  "lot.record": ["operator", "technician", "engineer", "admin"],
  /** Put lots under retention hold and release them. */
  "lot.hold": ["engineer", "admin"],
  /** See setpoint writes and method calls, their approvals and results. */
  "actuation.read": ["operator", "technician", "engineer", "auditor", "admin"],
  /** Write setpoints within their limits and call machine methods (critical ones then wait for an approval). */
  "machine.actuate": ["operator", "technician", "engineer", "admin"],
  /** Approve or reject someone else's write or call on a critical target. */
  "actuation.approve": ["engineer", "admin"],
  /** Give a downtime its reason code. */
  "downtime.annotate": ["operator", "technician", "engineer", "admin"],
  /** Record quality results (scrap found by inspection). */
  "quality.report": ["operator", "technician", "engineer", "admin"],
  /** Set the shift calendars of sites and lines. */
  "calendar.manage": ["planner", "engineer", "admin"],
  /** See production orders, capacity and machine suggestions. */
  "order.read": everyone,
  /** Create, change and import production orders. */
  "order.manage": ["planner", "admin"],
  /** Read the audit trail, follow it live, verify its chain and see electronic signatures. */
  "audit.read": ["auditor", "admin"],
  /** Export the audit trail of a period as a signed bundle; sign checkpoints on demand. */
  "audit.export": ["auditor", "admin"],
  /** See the electronic signatures of records, each checked against the record as it is now. */
  "signature.read": ["technician", "planner", "engineer", "auditor", "admin"],
  /** Sign a record electronically (reviewed, approved, released), re-authenticating to do so. */
  "record.sign": ["technician", "planner", "engineer", "admin"],
} as const satisfies Record<string, readonly AccessRole[]>;

export type Permission = keyof typeof permissionMatrix;
export const permissions = Object.keys(permissionMatrix) as Permission[];

export function can(identity: Identity, permission: Permission): boolean {
  return (permissionMatrix[permission] as readonly AccessRole[]).includes(identity.role);
}
