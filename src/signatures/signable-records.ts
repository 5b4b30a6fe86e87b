import { eq, sql } from "drizzle-orm";
import { auditEntries } from "../../schema/db/audit.js";
import { machines } from "../../schema/db/assets.js";
import { alarms } from "../../schema/db/events.js";
import { tasks } from "../../schema/db/tasks.js";
import { sitePathOf } from "../auth/identity.js";
import type { Permission } from "../auth/permissions.js";
import type { DbOrTx } from "../db/database.js";
import { lotBatchRecord } from "../lots/lot.queries.js";

/**
 * The records people can sign, by type. A signature is bound to the SHA-256 of the record's
 * canonical content as read here, so any later change of the record shows the signature invalid.
 * Another kind of record (a deviation, an order) becomes signable by adding its reader.
 */
export interface SignableRecord {
  content: Record<string, unknown>;
  /** "enterprise/site" the record belongs to; null: plant-wide. */
  site: string | null;
}

interface SignableType {
  /** What else the signer must be allowed to see the record, beyond record.sign. */
  readPermission?: Permission;
  read(db: DbOrTx, id: number): Promise<SignableRecord | undefined>;
}

const siteOfMachine = (path: string | null) => (path ? sitePathOf(path) : null);

export const signableRecords = {
  task: {
    async read(db, id) {
      const [row] = await db.select({ task: tasks, path: machines.path }).from(tasks).leftJoin(machines, eq(machines.id, tasks.machineId)).where(eq(tasks.id, id));
      return row && { content: row.task, site: siteOfMachine(row.path) };
    },
  },
  alarm: {
    async read(db, id) {
      const [row] = await db.select({ alarm: alarms, path: machines.path }).from(alarms).innerJoin(machines, eq(machines.id, alarms.machineId)).where(eq(alarms.id, id));
      return row && { content: row.alarm, site: siteOfMachine(row.path) };
    },
  },
  /** A batch record (lotBatchRecord): using a released lot elsewhere keeps its release valid. */
  lot: {
    readPermission: "trace.read",
    async read(db, id) {
      const record = await lotBatchRecord(db, id);
      return record && { content: record, site: sitePathOf(record.lot.machinePath) };
    },
  },
  audit_entry: {
    readPermission: "audit.read",
    async read(db, id) {
      const [row] = await db.select().from(auditEntries).where(sql`${auditEntries.id} = ${id}`);
      return row && { content: row, site: null };
    },
  },
} as const satisfies Record<string, SignableType>;

export type SignableRecordType = keyof typeof signableRecords;
export const signableRecordTypes = Object.keys(signableRecords) as SignableRecordType[];

export function readPermissionOf(type: SignableRecordType): Permission | undefined {
  return (signableRecords[type] as SignableType).readPermission;
}
