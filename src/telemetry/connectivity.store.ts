import { inArray, notInArray, sql } from "drizzle-orm";
import { machineConnectivity } from "../../schema/db/connectivity.js";
import type { Bus, BusEvents } from "../bus/bus.js";
import type { Database, DbOrTx } from "../db/database.js";
import type { Logger } from "../log/logger.js";

type Change = BusEvents["machineConnectivity"];

/**
 * Keeps `machine_connectivity` in step with the births and deaths on the bus, so every replica's
 * machine state sees them. Writes go one at a time in arrival order, and a row never moves back
 * to an older change, so a death and the rebirth right after it land in the right order.
 */
export class ConnectivityRecorder {
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly database: Database,
    bus: Bus,
    private readonly log: Logger,
  ) {
    bus.on("connectivity", "machineConnectivity", (change) => this.record(change));
  }

  record(change: Change): Promise<void> {
    this.last = this.last.then(() =>
      saveConnectivity(this.database.db, change).catch((error: unknown) => this.log.error({ err: error, change }, "machine connectivity not recorded")),
    );
    return this.last;
  }

  /** Resolves when every change heard so far is written. */
  flush(): Promise<void> {
    return this.last;
  }
}

export async function saveConnectivity(db: DbOrTx, change: Change): Promise<void> {
  const row = { machineId: Number(change.machineId), online: change.online, reason: change.reason, changedAt: change.at };
  await db
    .insert(machineConnectivity)
    .values(row)
    .onConflictDoUpdate({
      target: machineConnectivity.machineId,
      set: { online: row.online, reason: row.reason, changedAt: row.changedAt },
      setWhere: sql`${machineConnectivity.changedAt} <= excluded.changed_at`,
    });
}

/** Machines whose source has declared them offline (dead and not born again). */
export async function disconnectedMachines(db: DbOrTx, ids: readonly number[]): Promise<Set<number>> {
  const rows = await db
    .select({ machineId: machineConnectivity.machineId })
    .from(machineConnectivity)
    .where(sql`${inArray(machineConnectivity.machineId, [...ids])} and not ${machineConnectivity.online}`);
  return new Set(rows.map((r) => r.machineId));
}

/** Forgets the connectivity of machines no longer fed by a source that reports it (their binding changed). */
/** Forgets the connectivity of machines not in `machineIds`; returns those that were dead. */
export async function forgetConnectivityExcept(db: DbOrTx, machineIds: readonly number[]): Promise<number[]> {
  const forgotten = await db
    .delete(machineConnectivity)
    .where(machineIds.length > 0 ? notInArray(machineConnectivity.machineId, [...machineIds]) : undefined)
    .returning({ machineId: machineConnectivity.machineId, online: machineConnectivity.online });
  return forgotten.filter((f) => !f.online).map((f) => f.machineId);
}
