import { and, eq, lt, sql } from "drizzle-orm";
import { actuationLimits, actuationRequests, machineMethods, type ActuationStatus, type CommandTransport } from "../../schema/db/actuation.js";
import { dataPoints } from "../../schema/db/assets.js";
import { opcuaBindings } from "../../schema/db/opcua.js";
import { recordAudit, systemActor } from "../audit/audit.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import type { HubPubSub } from "../pubsub/pubsub.js";
import type { ActuationRow } from "./actuation.service.js";
import { CommandRefused, withinTolerance, type CommandChannel, type CommandChannels, type CommandTarget } from "./command-channel.js";

export interface ActuatorOptions {
  database: Database;
  pubsub: HubPubSub;
  channels: CommandChannels;
  log: Logger;
  readBackTimeoutMs: number;
  /** An approved write not sent within this long is failed, not sent late. */
  staleAfterMs?: number;
  sweepEveryMs?: number;
}

const actor = systemActor("actuator");
const DEFAULT_STALE_AFTER_MS = 60_000;
const DEFAULT_SWEEP_EVERY_MS = 5_000;

/**
 * Sends approved setpoint writes and records their results. Runs where the command channels are
 * (the ingest role). Each write is claimed in the database (approved → sent) before it goes out,
 * so of several processes hearing of it exactly one sends it; a sweep picks up what the pubsub
 * missed and fails what waited too long, since a setpoint that arrives late can do harm.
 */
export class Actuator {
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: ActuatorOptions) {}

  start(): void {
    const changes = this.options.pubsub.subscribe("ACTUATION_CHANGED");
    const listening = (async () => {
      for await (const change of changes) if (change.status === "approved") this.track(this.execute(change.actuationId));
    })();
    this.stopListening = async () => {
      await changes.return(undefined);
      await listening;
    };
    this.timer = setInterval(() => this.track(this.sweep()), this.options.sweepEveryMs ?? DEFAULT_SWEEP_EVERY_MS);
    this.timer.unref();
    this.track(this.sweep());
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.stopListening?.();
    await Promise.allSettled([...this.running]);
  }

  /** Sends one approved write and waits for its read-back; a write not (or no longer) approved is left alone. */
  async execute(actuationId: number): Promise<void> {
    const { db } = this.options.database;
    const claimed = await db.transaction(async (tx) => {
      const [row] = await tx
        .update(actuationRequests)
        .set({ status: "sent", sentAt: sql`now()` })
        .where(and(eq(actuationRequests.id, actuationId), eq(actuationRequests.status, "approved")))
        .returning();
      if (row) await recordAudit(tx, { actor, action: "actuation.sent", entityType: "actuation_request", entityId: row.id, oldValue: { value: row.beforeValue }, newValue: { value: row.value } });
      return row;
    });
    if (!claimed) return;
    this.announce(claimed);
    try {
      if (claimed.methodId !== null) await this.call(claimed, claimed.methodId);
      else await this.write(claimed, claimed.dataPointId!, claimed.value!);
    } catch (error) {
      const { message } = error as Error;
      await this.finish(claimed, "failed", undefined, error instanceof CommandRefused ? message : `not sent: ${message}`);
    }
  }

  private async write(row: ActuationRow, dataPointId: number, value: number): Promise<void> {
    const { target, transport, tolerance } = await this.pointTarget(row, dataPointId);
    const { readBack, before } = await this.channel(transport).write(target, value, { timeoutMs: this.options.readBackTimeoutMs, tolerance });
    // A value read from the machine just before the write is a truer "before" than the latest sample.
    const sent = before === undefined ? row : { ...row, beforeValue: before };
    if (readBack === undefined) await this.finish(sent, "failed", undefined, `no value reported within ${this.options.readBackTimeoutMs / 1000} s`);
    else if (withinTolerance(readBack, value, tolerance)) await this.finish(sent, "confirmed", readBack, null);
    else await this.finish(sent, "mismatch", readBack, `wrote ${value}, the machine reports ${readBack}`);
  }

  /** A method call ends SENT where the transport only delivers, CONFIRMED where it answers. */
  private async call(row: ActuationRow, methodId: number): Promise<void> {
    const [method] = await this.options.database.db.select().from(machineMethods).where(eq(machineMethods.id, methodId));
    if (!method) throw new Error("the method no longer exists");
    const { confirmed, result } = await this.channel(method.transport).call({ actuationId: row.id, method: method.name, address: method.address }, row.arguments ?? {});
    await this.finish(row, confirmed ? "confirmed" : "sent", undefined, result === undefined ? null : JSON.stringify(result), result);
  }

  private channel(transport: CommandTransport): CommandChannel {
    const channel = this.options.channels.get(transport);
    if (!channel) throw new Error(`no ${transport} command channel in this process`);
    return channel;
  }

  /** Sends what the pubsub did not announce here; fails what waited past the stale limit. */
  private async sweep(): Promise<void> {
    const { db } = this.options.database;
    const staleBefore = new Date(Date.now() - (this.options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS));
    const approvedAt = sql`coalesce(${actuationRequests.decidedAt}, ${actuationRequests.createdAt})`;
    const stale = await db.transaction(async (tx) => {
      const rows = await tx
        .update(actuationRequests)
        .set({ status: "failed", finishedAt: sql`now()`, detail: "not sent in time: a late setpoint is not sent" })
        .where(and(eq(actuationRequests.status, "approved"), lt(approvedAt, staleBefore)))
        .returning();
      await recordAudit(tx, ...rows.map((row) => ({ actor, action: "actuation.failed" as const, entityType: "actuation_request", entityId: row.id, newValue: { value: row.value }, reason: row.detail })));
      return rows;
    });
    stale.forEach((row) => this.announce(row));
    const waiting = await db.select({ id: actuationRequests.id }).from(actuationRequests).where(eq(actuationRequests.status, "approved"));
    for (const { id } of waiting) await this.execute(id);
  }

  private async pointTarget(row: ActuationRow, dataPointId: number): Promise<{ target: CommandTarget; transport: CommandTransport; tolerance: number }> {
    const [found] = await this.options.database.db
      .select({ point: dataPoints, limits: actuationLimits, opcua: opcuaBindings })
      .from(dataPoints)
      .innerJoin(actuationLimits, eq(actuationLimits.dataPointId, dataPoints.id))
      .leftJoin(opcuaBindings, eq(opcuaBindings.dataPointId, dataPoints.id))
      .where(eq(dataPoints.id, dataPointId));
    if (!found) throw new Error("the point is no longer writable");
    const { point, limits, opcua } = found;
    const target: CommandTarget = {
      actuationId: row.id,
      dataPointId: point.id,
      dataType: point.dataType,
      ...(limits.commandTopic ? { commandTopic: limits.commandTopic } : {}),
      ...(point.sparkplugGroup && point.sparkplugNode
        ? { sparkplug: { group: point.sparkplugGroup, node: point.sparkplugNode, ...(point.sparkplugDevice ? { device: point.sparkplugDevice } : {}), metric: point.sparkplugMetric ?? point.name } }
        : {}),
      ...(opcua ? { opcua: { endpointId: opcua.endpointId, nodeId: opcua.nodeId, browsePath: opcua.browsePath } } : {}),
    };
    return { target, transport: limits.transport, tolerance: limits.tolerance };
  }

  /** `result`: what a method call answered (its output arguments), kept in the audit row too. */
  private async finish(row: ActuationRow, status: Extract<ActuationStatus, "sent" | "confirmed" | "mismatch" | "failed">, readBack: number | undefined, detail: string | null, result?: unknown): Promise<void> {
    const updated = await this.options.database.db.transaction(async (tx) => {
      const [done] = await tx
        .update(actuationRequests)
        .set({ status, beforeValue: row.beforeValue, afterValue: readBack ?? null, detail, finishedAt: sql`now()` })
        .where(eq(actuationRequests.id, row.id))
        .returning();
      // A call that ends as delivered has its actuation.sent row from the claim already.
      if (status === "sent") return done!;
      await recordAudit(tx, {
        actor,
        action: `actuation.${status}`,
        entityType: "actuation_request",
        entityId: row.id,
        oldValue: { value: row.beforeValue },
        newValue: { value: readBack ?? null, requested: row.value, ...(result === undefined ? {} : { result }) },
        reason: detail,
      });
      return done!;
    });
    if (status === "mismatch" || status === "failed") this.options.log.warn({ actuationId: row.id, status, detail }, "actuation not confirmed");
    this.announce(updated);
  }

  private announce(row: ActuationRow): void {
    this.options.pubsub.publish("ACTUATION_CHANGED", { actuationId: row.id, machineId: row.machineId, status: row.status, at: new Date().toISOString() });
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.options.log.error({ err: error }, "actuator step failed")).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }
}
