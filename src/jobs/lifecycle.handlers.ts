import { ensureTelemetryPartitions } from "../lifecycle/partitions.js";
import { expireTelemetry } from "../lifecycle/retention.js";
import { runRollups } from "../lifecycle/rollups.js";
import type { HandlerRun } from "./handler.js";

/** Rolls telemetry up to the last complete minute (and hour). */
export async function rollUpTelemetry({ deps }: HandlerRun<"telemetry.rollup">): Promise<string> {
  const run = await runRollups(deps.database, new Date());
  return `${run.minuteBuckets} minute and ${run.hourBuckets} hour buckets up to ${run.minuteUpTo?.toISOString() ?? "no data"}`;
}

/** Expires what is past its retention; the run is audited by expireTelemetry. */
export async function expireOldTelemetry({ deps }: HandlerRun<"telemetry.expire">): Promise<string> {
  const run = await expireTelemetry(deps.database, deps.retention, new Date());
  deps.log.info(
    { partitions: run.droppedPartitions.map((p) => p.name), rawRowsDeleted: run.rawRowsDeleted, heldRowsCopied: run.heldRowsCopied, holds: run.holdsKept.length },
    "telemetry expired",
  );
  return `${run.droppedPartitions.length} partitions dropped, ${run.rawRowsDeleted} raw rows deleted`;
}

export async function makeTelemetryPartitions({ deps }: HandlerRun<"telemetry.partitions">): Promise<string> {
  return `${await ensureTelemetryPartitions(deps.database.db, new Date())} partitions created`;
}
