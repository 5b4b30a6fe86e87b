import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { productionOrders, type OrderStatus } from "../../schema/db/orders.js";
import { recordAudit } from "../audit/audit.js";
import { idealCycleSeconds, type EffectiveStateConfig } from "../availability/state-config.js";
import type { CountIncrement } from "../availability/state-engine.js";
import type { ProductionIncrement } from "../availability/state.store.js";
import type { DbOrTx, Tx } from "../db/database.js";
import { machineContexts } from "../events/event-context.js";
import type { EventWriter } from "../events/event.store.js";

export type OrderRow = typeof productionOrders.$inferSelect;

/** An order as GraphQL and the CSV import state it, with the machine or line already resolved. */
export const orderSpec = z
  .strictObject({
    number: z.string().trim().min(1).max(64),
    product: z.string().trim().min(1).max(128),
    quantity: z.number().int().positive().max(100_000_000),
    dueAt: z.date({ error: "expected a date and time" }),
    machineId: z.number().int().positive().nullish(),
    lineId: z.number().int().positive().nullish(),
    sequence: z.number().int().min(0).max(1_000_000).default(0),
  })
  .refine((o) => o.machineId != null || o.lineId != null, { message: "expected a machine or a line", path: ["machineId"] });
export type OrderSpec = z.output<typeof orderSpec>;

/** Changes a planner may make: reassign, re-sequence, move the due date or the quantity, cancel. */
export const orderChange = z.strictObject({
  quantity: z.number().int().positive().max(100_000_000).optional(),
  dueAt: z.date().optional(),
  machineId: z.number().int().positive().nullish(),
  lineId: z.number().int().positive().nullish(),
  sequence: z.number().int().min(0).max(1_000_000).optional(),
  status: z.enum(["planned", "cancelled"]).optional(),
});
export type OrderChange = z.output<typeof orderChange>;

export class DuplicateOrderNumber extends Error {}

/** Creates or (same number) replaces orders; returns them in input order. */
export async function upsertOrders(tx: Tx, specs: readonly OrderSpec[], actor: string, requestId?: string, action: "order.created" | "order.imported" = "order.created"): Promise<OrderRow[]> {
  const out: OrderRow[] = [];
  for (const spec of specs) {
    const values = { ...spec, machineId: spec.machineId ?? null, lineId: spec.lineId ?? null };
    const [row] = await tx
      .insert(productionOrders)
      .values(values)
      .onConflictDoUpdate({ target: productionOrders.number, set: { ...values, updatedAt: sql`now()` } })
      .returning();
    out.push(row!);
  }
  await recordAudit(tx, ...out.map((row) => ({ actor, action, entityType: "production_order", entityId: row.id, newValue: auditView(row), requestId })));
  return out;
}

export async function changeOrder(tx: Tx, id: number, change: OrderChange, actor: string, requestId?: string): Promise<OrderRow | undefined> {
  const [before] = await tx.select().from(productionOrders).where(eq(productionOrders.id, id)).for("update");
  if (!before) return undefined;
  const [row] = await tx
    .update(productionOrders)
    .set({ ...change, updatedAt: sql`now()` })
    .where(eq(productionOrders.id, id))
    .returning();
  await recordAudit(tx, { actor, action: "order.updated", entityType: "production_order", entityId: id, oldValue: auditView(before), newValue: auditView(row!), requestId });
  return row;
}

export async function orderById(db: DbOrTx, id: number): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(productionOrders).where(eq(productionOrders.id, id));
  return row;
}

const openStatuses: OrderStatus[] = ["planned", "in_progress"];

/** Open orders of machines, in queue order: sequence, then due date, then id. */
export async function machineQueues(db: DbOrTx, machineIds: readonly number[]): Promise<Map<number, OrderRow[]>> {
  const queues = new Map<number, OrderRow[]>(machineIds.map((id) => [id, []]));
  if (machineIds.length === 0) return queues;
  const rows = await db
    .select()
    .from(productionOrders)
    .where(and(inArray(productionOrders.machineId, [...machineIds]), inArray(productionOrders.status, openStatuses)))
    .orderBy(asc(productionOrders.sequence), asc(productionOrders.dueAt), asc(productionOrders.id));
  for (const row of rows) queues.get(row.machineId!)?.push(row);
  return queues;
}

/**
 * Attributes counted parts to the order at the head of each machine's queue (its product, its
 * progress); an order whose good quantity reaches its target completes and records
 * `order.completed`. Returns the increments with product and ideal seconds for the rollups.
 */
export async function applyProgress(
  tx: Tx,
  writer: EventWriter,
  counts: readonly CountIncrement[],
  configs: ReadonlyMap<number, EffectiveStateConfig>,
): Promise<ProductionIncrement[]> {
  if (counts.length === 0) return [];
  const queues = await machineQueues(tx, [...new Set(counts.map((c) => c.machineId))]);
  const increments: ProductionIncrement[] = [];
  const completed: OrderRow[] = [];
  for (const count of [...counts].sort((a, b) => a.at - b.at)) {
    const queue = queues.get(count.machineId) ?? [];
    const order = queue[0];
    const product = order?.product ?? "";
    const config = configs.get(count.machineId);
    const ideal = config ? (idealCycleSeconds(config, product) ?? 0) : 0;
    increments.push({ ...count, product, idealSeconds: ideal * count.produced });
    if (!order) continue;
    const good = order.good + count.good;
    const done = good >= order.quantity;
    const [row] = await tx
      .update(productionOrders)
      .set({
        produced: order.produced + count.produced,
        good,
        status: done ? "completed" : "in_progress",
        startedAt: order.startedAt ?? new Date(count.at),
        completedAt: done ? new Date(count.at) : null,
        atRisk: done ? false : order.atRisk,
        updatedAt: sql`now()`,
      })
      .where(eq(productionOrders.id, order.id))
      .returning();
    if (done) {
      queue.shift();
      completed.push(row!);
    } else queue[0] = row!;
  }
  if (completed.length > 0) {
    const machines = await machineContexts(tx, completed.map((o) => o.machineId!));
    await writer.recordMany(
      completed.map((o) => ({
        event: {
          kind: "order.completed" as const,
          at: o.completedAt!,
          machineId: o.machineId,
          severity: "info" as const,
          message: `order ${o.number} completed: ${o.good} good of ${o.quantity} ${o.product}`,
          detail: { orderId: o.id, number: o.number, product: o.product, quantity: o.quantity, good: o.good, produced: o.produced },
        },
        facts: { machine: machines.get(o.machineId!) },
      })),
    );
  }
  return increments;
}

function auditView(row: OrderRow): Record<string, unknown> {
  return { number: row.number, product: row.product, quantity: row.quantity, dueAt: row.dueAt.toISOString(), machineId: row.machineId, lineId: row.lineId, sequence: row.sequence, status: row.status };
}
