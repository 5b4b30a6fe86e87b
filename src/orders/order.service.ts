import { and, asc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { machines } from "../../schema/db/assets.js";
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

const openStatuses: OrderStatus[] = ["planned", "in_progress"];

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
    /** A cancelled order leaves its machine's queue. */
    cancelled: z.boolean().default(false),
  })
  .refine((o) => o.machineId != null || o.lineId != null, { message: "expected a machine or a line", path: ["machineId"] });
/** What upsertOrders takes: validated by orderSpec, defaults optional. */
export type OrderSpec = z.input<typeof orderSpec>;

/** Creates or (same number) replaces orders; returns them in input order. */
export async function upsertOrders(tx: Tx, specs: readonly OrderSpec[], actor: string, requestId?: string, action: "order.created" | "order.imported" = "order.created"): Promise<OrderRow[]> {
  const out: OrderRow[] = [];
  for (const { cancelled, sequence, ...spec } of specs) {
    const values = { ...spec, sequence: sequence ?? 0, machineId: spec.machineId ?? null, lineId: spec.lineId ?? null, ...(cancelled ? { status: "cancelled" as const } : {}) };
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

export async function orderByNumber(db: DbOrTx, number: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(productionOrders).where(eq(productionOrders.number, number));
  return row;
}

/** Orders on these machines or lines, open ones first by due date. */
export async function ordersOf(db: DbOrTx, machineIds: readonly number[], lineIds: readonly number[], openOnly: boolean): Promise<OrderRow[]> {
  if (machineIds.length === 0 && lineIds.length === 0) return [];
  const target = or(machineIds.length > 0 ? inArray(productionOrders.machineId, [...machineIds]) : undefined, lineIds.length > 0 ? inArray(productionOrders.lineId, [...lineIds]) : undefined);
  return db
    .select()
    .from(productionOrders)
    .where(openOnly ? and(target, inArray(productionOrders.status, openStatuses)) : target)
    .orderBy(asc(productionOrders.dueAt), asc(productionOrders.id))
    .limit(5_000);
}

export function ordersByIds(db: DbOrTx, ids: readonly number[]): Promise<OrderRow[]> {
  return ids.length === 0 ? Promise.resolve([]) : db.select().from(productionOrders).where(inArray(productionOrders.id, [...ids]));
}

export async function orderById(db: DbOrTx, id: number): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(productionOrders).where(eq(productionOrders.id, id));
  return row;
}

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
 * Open orders assigned to a line only (no machine), of the lines these machines belong to, in
 * queue order, with all the machines of each line (a line order runs on every one of them).
 */
export async function lineQueues(db: DbOrTx, machineIds: readonly number[]): Promise<Map<number, { orders: OrderRow[]; machineIds: number[] }>> {
  const queues = new Map<number, { orders: OrderRow[]; machineIds: number[] }>();
  if (machineIds.length === 0) return queues;
  const linesOf = db.selectDistinct({ lineId: machines.lineId }).from(machines).where(inArray(machines.id, [...machineIds]));
  const rows = await db
    .select({ order: productionOrders, machineId: machines.id })
    .from(productionOrders)
    .innerJoin(machines, eq(machines.lineId, productionOrders.lineId))
    .where(and(isNull(productionOrders.machineId), inArray(productionOrders.status, openStatuses), inArray(productionOrders.lineId, linesOf)))
    .orderBy(asc(productionOrders.sequence), asc(productionOrders.dueAt), asc(productionOrders.id), asc(machines.id));
  for (const { order, machineId } of rows) {
    const queue = queues.get(order.lineId!) ?? { orders: [], machineIds: [] };
    if (queue.orders.at(-1)?.id !== order.id) queue.orders.push(order);
    if (!queue.machineIds.includes(machineId)) queue.machineIds.push(machineId);
    queues.set(order.lineId!, queue);
  }
  return queues;
}

/**
 * The machines whose schedules these orders touch: their machine, or every machine of their line
 * when they have none. Given an order's old and new rows, a reassigned order re-projects both queues.
 */
export async function machinesOfOrders(db: DbOrTx, orders: readonly Pick<OrderRow, "machineId" | "lineId">[]): Promise<number[]> {
  const ids = new Set(orders.flatMap((o) => (o.machineId === null ? [] : [o.machineId])));
  const lineIds = [...new Set(orders.flatMap((o) => (o.machineId === null && o.lineId !== null ? [o.lineId] : [])))];
  if (lineIds.length > 0) for (const m of await db.select({ id: machines.id }).from(machines).where(inArray(machines.lineId, lineIds))) ids.add(m.id);
  return [...ids];
}

/** The machines with open orders: their own, or their line's. */
export async function machinesWithOpenOrders(db: DbOrTx): Promise<number[]> {
  const open = await db.selectDistinct({ machineId: productionOrders.machineId, lineId: productionOrders.lineId }).from(productionOrders).where(inArray(productionOrders.status, openStatuses));
  return machinesOfOrders(db, open);
}

export async function ordersByNumbers(db: DbOrTx, numbers: readonly string[]): Promise<OrderRow[]> {
  return numbers.length === 0 ? [] : db.select().from(productionOrders).where(inArray(productionOrders.number, [...numbers]));
}

/**
 * Attributes counted parts to the order at the head of each machine's queue (its product, its
 * progress), or, when the machine reports its job's product, to the first order in its queue for
 * that product (none: the parts count for the product without an order); an order whose good quantity reaches its target completes and records
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
    const at = count.product === undefined ? 0 : queue.findIndex((o) => o.product === count.product);
    const order = at >= 0 ? queue[at] : undefined;
    const product = count.product ?? order?.product ?? "";
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
      queue.splice(at, 1);
      completed.push(row!);
    } else queue[at] = row!;
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

/** Machines that can make a product: its ideal cycle time is configured, or they made it in the last 30 days. */
export async function machinesMaking(db: DbOrTx, product: string): Promise<number[]> {
  const result = await db.execute(
    sql`select machine_id from machine_state_config where (config -> 'products') ? ${product}
        union
        select machine_id from production_count where grain_seconds = 86400 and product = ${product} and bucket > now() - interval '30 days'`,
  );
  return (result as unknown as { rows: { machine_id: number }[] }).rows.map((r) => r.machine_id);
}
