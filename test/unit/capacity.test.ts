import { describe, expect, it } from "vitest";
import { machineCapacity, rankMachines } from "../../src/capacity/capacity.js";
import type { MachineSchedule } from "../../src/orders/projection.js";
import { consume } from "../../src/orders/schedule.js";

const NOW = Date.parse("2026-06-01T06:00:00Z");
const H = 3_600_000;

/** A machine planned 06:00-14:00 and 15:00-23:00 (a planned window 14:00-15:00 inside the 16 h of shifts). */
function schedule(machineId: number, opts: { actual?: number; ideal?: number; busyHours?: number }): MachineSchedule {
  const windows = [{ from: NOW, to: NOW + 8 * H }, { from: NOW + 9 * H, to: NOW + 17 * H }];
  const busy = opts.busyHours ? consume(windows, NOW, opts.busyHours * 3600) : undefined;
  return {
    machineId,
    calendar: { machineId, machineName: `m${machineId}`, lineId: 1, siteId: 1, zone: "UTC" },
    config: { sources: [], counters: {}, products: opts.ideal ? { blade: opts.ideal } : {} },
    windows,
    shiftWindows: [{ from: NOW, to: NOW + 17 * H }],
    actualSecondsPerGood: opts.actual,
    orders: busy ? [{ order: {} as never, remaining: 0, start: NOW, finish: busy.finish, segments: busy.segments }] : [],
    lineOrders: [],
    freeAt: busy ? busy.finish : NOW,
  };
}

describe("capacity and machine suggestions", () => {
  it("spare = available shift time − planned maintenance − committed work, from now", () => {
    const c = machineCapacity(schedule(1, { busyHours: 10 }), NOW - 5 * H, NOW + 17 * H, NOW);
    expect(c).toEqual({ machineId: 1, availableSeconds: 17 * 3600, plannedMaintenanceSeconds: 3600, committedSeconds: 10 * 3600, spareSeconds: 6 * 3600 });
  });

  it("ranks machines that meet the due date first, then by finish, and says why", () => {
    const ranked = rankMachines(
      [schedule(1, { busyHours: 5, ideal: 8 }), schedule(2, { actual: 10 }), schedule(3, {})],
      "blade",
      1_000,
      NOW + 4 * H,
      NOW,
    );
    expect(ranked.map((r) => [r.machineId, r.rank, r.canMeetDue])).toEqual([
      [2, 1, true],
      [1, 2, false],
      [3, 3, false],
    ]);
    expect(ranked[0]!.finish).toBe(NOW + 10_000 * 1000);
    expect(ranked[0]!.explanation).toBe(
      "free from 2026-06-01T06:00:00.000Z after 0 queued orders; 1000 × 10.0 s (actual) = 2.8 h of production; finishes 2026-06-01T08:46:40.000Z, 73 min before the due date; 4.0 h spare until the due date",
    );
    expect(ranked[1]!.explanation).toMatch(/after 1 queued order; 1000 × 8\.0 s \(ideal\)/);
    expect(ranked[2]!.explanation).toMatch(/^no rate known/);
  });
});
