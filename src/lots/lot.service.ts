import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { lotComponents, lots, qualityResults } from "../../schema/db/lots.js";
import { recordAudit } from "../audit/audit.js";
import type { DbOrTx, Tx } from "../db/database.js";
import { traceLotIds } from "./lot.queries.js";

/**
 * The single writer of lots and their genealogy. Each change commits with its audit row; the
 * caller publishes TRACE_UPDATED after the commit.
 */

export type LotRow = typeof lots.$inferSelect;

/** An expected refusal, for `field` of the input. */
export class LotRejected extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "LotRejected";
  }
}

export interface ChangedBy {
  actor: string;
  requestId?: string;
}

const text = (max: number) => z.string().trim().min(1, { error: "expected some text" }).max(max, { error: `expected at most ${max} characters` });
const quantity = z.number().finite().min(0, { error: "expected a quantity of at least 0" });

export const startLotSpec = z.object({
  code: text(128),
  product: text(128).optional(),
  startedAt: z.date().optional(),
});
export const endLotSpec = z.object({ endedAt: z.date().optional(), quantity: quantity.optional(), unit: text(32).optional() });
export const lotComponentSpec = z.object({ quantity: quantity.optional(), unit: text(32).optional(), consumedAt: z.date().optional() });
export const qualityResultSpec = z.object({
  characteristic: text(128),
  value: z.number().finite().optional(),
  unit: text(32).optional(),
  passed: z.boolean(),
  note: text(2_000).optional(),
  recordedAt: z.date().optional(),
});
export const lotHoldSpec = z
  .object({ onHold: z.boolean(), reason: text(500).optional() })
  .refine((h) => !h.onHold || h.reason !== undefined, { error: "a hold needs its reason", path: ["reason"] });

export async function startLot(
  db: DbOrTx,
  machine: { id: number; path: string },
  spec: z.output<typeof startLotSpec>,
  by: ChangedBy,
): Promise<LotRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(lots)
      .values({ code: spec.code, machineId: machine.id, machinePath: machine.path, product: spec.product ?? null, startedAt: spec.startedAt ?? new Date(), startedBy: by.actor })
      .onConflictDoNothing({ target: lots.code })
      .returning();
    if (!row) throw new LotRejected("code", `a lot with code "${spec.code}" exists already`);
    await audit(tx, by, "lot.started", row.id, null, { code: row.code, machine: machine.path, product: row.product, startedAt: row.startedAt.toISOString() });
    return row;
  });
}

export async function endLot(db: DbOrTx, lot: LotRow, spec: z.output<typeof endLotSpec>, by: ChangedBy): Promise<LotRow> {
  if (lot.status === "ended") throw new LotRejected("id", "the lot has ended already");
  const endedAt = spec.endedAt ?? new Date();
  if (endedAt < lot.startedAt) throw new LotRejected("endedAt", "a lot cannot end before it started");
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(lots)
      .set({ status: "ended", endedAt, endedBy: by.actor, quantity: spec.quantity ?? lot.quantity, unit: spec.unit ?? lot.unit, updatedAt: sql`now()` })
      .where(and(eq(lots.id, lot.id), eq(lots.status, "running")))
      .returning();
    if (!row) throw new LotRejected("id", "the lot has ended already");
    await audit(tx, by, "lot.ended", lot.id, { status: lot.status }, { status: "ended", endedAt: endedAt.toISOString(), quantity: row.quantity, unit: row.unit });
    return row;
  });
}

/** Records that `parent` was consumed into `lot`; refuses a link that would make the genealogy a loop. */
export async function addLotComponent(
  db: DbOrTx,
  lot: LotRow,
  parent: LotRow,
  spec: z.output<typeof lotComponentSpec>,
  by: ChangedBy,
): Promise<void> {
  if (lot.id === parent.id) throw new LotRejected("parentLotId", "a lot cannot consume itself");
  await db.transaction(async (tx) => {
    // Serializes genealogy changes, so two links cannot close a loop between them.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('plantgraph.lot-genealogy'))`);
    if ((await traceLotIds(tx, lot.id, "FORWARD")).includes(parent.id)) {
      throw new LotRejected("parentLotId", `lot "${parent.code}" was made from lot "${lot.code}": consuming it would make a loop`);
    }
    const inserted = await tx
      .insert(lotComponents)
      .values({ lotId: lot.id, parentLotId: parent.id, quantity: spec.quantity ?? null, unit: spec.unit ?? null, consumedAt: spec.consumedAt ?? new Date(), recordedBy: by.actor })
      .onConflictDoNothing()
      .returning({ id: lotComponents.id });
    if (inserted.length === 0) throw new LotRejected("parentLotId", `lot "${parent.code}" is a component of this lot already`);
    await audit(tx, by, "lot.component_added", lot.id, null, { parentLotId: parent.id, parentCode: parent.code, quantity: spec.quantity ?? null, unit: spec.unit ?? null });
  });
}

export async function recordQualityResult(db: DbOrTx, lot: LotRow, spec: z.output<typeof qualityResultSpec>, by: ChangedBy): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(qualityResults)
      .values({
        lotId: lot.id,
        characteristic: spec.characteristic,
        value: spec.value ?? null,
        unit: spec.unit ?? null,
        passed: spec.passed,
        note: spec.note ?? null,
        recordedAt: spec.recordedAt ?? new Date(),
        recordedBy: by.actor,
      })
      .returning();
    await audit(tx, by, "lot.quality_recorded", lot.id, null, { resultId: row!.id, characteristic: row!.characteristic, value: row!.value, unit: row!.unit, passed: row!.passed });
  });
}

/** Puts a lot under retention hold (its readings are never expired) or releases it. */
export async function setLotHold(db: DbOrTx, lot: LotRow, spec: z.output<typeof lotHoldSpec>, by: ChangedBy): Promise<LotRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(lots)
      .set({ onHold: spec.onHold, holdReason: spec.onHold ? spec.reason! : null, holdChangedBy: by.actor, updatedAt: sql`now()` })
      .where(eq(lots.id, lot.id))
      .returning();
    await audit(tx, by, "lot.hold_changed", lot.id, { onHold: lot.onHold, reason: lot.holdReason }, { onHold: row!.onHold, reason: row!.holdReason }, spec.reason);
    return row!;
  });
}

function audit(
  tx: Tx,
  by: ChangedBy,
  action: "lot.started" | "lot.ended" | "lot.component_added" | "lot.quality_recorded" | "lot.hold_changed",
  lotId: number,
  oldValue: Record<string, unknown> | null,
  newValue: Record<string, unknown>,
  reason?: string,
): Promise<void> {
  return recordAudit(tx, { actor: by.actor, action, entityType: "lot", entityId: lotId, oldValue, newValue, reason: reason ?? null, requestId: by.requestId ?? null });
}
