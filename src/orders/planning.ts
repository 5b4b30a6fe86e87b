import { and, eq, gte, inArray, sql } from "drizzle-orm";
import { machines } from "../../schema/db/assets.js";
import { events } from "../../schema/db/events.js";
import { systemActor } from "../audit/audit.js";
import { endOfLocalDay, machineCapacity } from "../capacity/capacity.js";
import type { Database, Tx } from "../db/database.js";
import { AfterCommit, type JobEnqueuer } from "../events/after-commit.js";
import { lineContexts } from "../events/event-context.js";
import { EventWriter } from "../events/event.store.js";
import type { Logger } from "../log/logger.js";
import type { HubPubSub } from "../pubsub/pubsub.js";
import { machinesWithOpenOrders } from "./order.service.js";
import { refreshProjections, type MachineSchedule } from "./projection.js";

const EVERY_MS = 60_000;

/**
 * Re-projects every open order once a minute (ingest role) as the machines' actual rates move,
 * and says `line.at_capacity` once a local day for a line whose queued work fills the rest of
 * its planned time today.
 */
export class PlanningRunner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly queues: JobEnqueuer | undefined,
    private readonly pubsub: HubPubSub,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.refresh(Date.now()), EVERY_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One refresh; never throws (the next minute tries again). */
  refresh(now: number): Promise<void> {
    return (this.running ??= refreshPlanning(this.database, this.queues, this.pubsub, this.log, now)
      .catch((error: unknown) => this.log.error({ err: error }, "refreshing order projections failed"))
      .finally(() => (this.running = undefined)));
  }
}

export async function refreshPlanning(database: Database, queues: JobEnqueuer | undefined, pubsub: HubPubSub, log: Logger, now: number): Promise<void> {
  const after = new AfterCommit();
  await database.db.transaction(async (tx) => {
    const writer = new EventWriter(tx, after, systemActor("planning"));
    const schedules = await refreshProjections(tx, writer, await machinesWithOpenOrders(tx), now);
    await lineCapacityEvents(tx, writer, schedules, now);
  });
  await after.flush(queues, pubsub, log);
}

/** Records line.at_capacity for lines out of spare time for the rest of today, once per local day. */
export async function lineCapacityEvents(tx: Tx, writer: EventWriter, schedules: ReadonlyMap<number, MachineSchedule>, now: number): Promise<void> {
  const byLine = new Map<number, MachineSchedule[]>();
  for (const s of schedules.values()) byLine.set(s.calendar.lineId, [...(byLine.get(s.calendar.lineId) ?? []), s]);
  if (byLine.size === 0) return;
  const lineMachines = await tx.select({ id: machines.id, lineId: machines.lineId }).from(machines).where(inArray(machines.lineId, [...byLine.keys()]));
  for (const [lineId, list] of byLine) {
    // Every machine of the line must be busy: one idle machine is spare capacity.
    if (lineMachines.filter((m) => m.lineId === lineId).length !== list.length) continue;
    const zone = list[0]!.calendar.zone;
    const endOfDay = endOfLocalDay(now, zone);
    const capacities = list.map((s) => machineCapacity(s, now, endOfDay, now));
    const productive = capacities.reduce((t, c) => t + c.availableSeconds - c.plannedMaintenanceSeconds, 0);
    const spare = capacities.reduce((t, c) => t + c.spareSeconds, 0);
    if (productive <= 0 || spare > 0) continue;
    const startOfDay = endOfDay - 86_400_000;
    const [already] = await tx
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.kind, "line.at_capacity"), gte(events.at, new Date(startOfDay)), sql`${events.detail}->>'lineId' = ${String(lineId)}`))
      .limit(1);
    if (already) continue;
    const line = (await lineContexts(tx, [lineId])).get(lineId);
    if (!line) continue;
    await writer.record(
      {
        kind: "line.at_capacity",
        at: new Date(now),
        machineId: null,
        severity: "warning",
        message: `line ${line.name} at capacity: its queued orders fill the ${(productive / 3600).toFixed(1)} h of planned production left today`,
        detail: { lineId: String(lineId), line: line.path, productiveSeconds: productive, spareSeconds: spare },
      },
      // The line's path: automations' site and line conditions match it, machine conditions do not.
      { machine: line },
    );
  }
}
