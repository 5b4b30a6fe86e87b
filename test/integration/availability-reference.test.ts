import { DateTime } from "luxon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPointsByMachine, machineByPath } from "../../src/assets/asset.queries.js";
import { applyPlantText } from "../../src/assets/plant-apply.js";
import { cycleTimes } from "../../src/availability/cycle-times.js";
import { kpisOf } from "../../src/availability/kpi.service.js";
import { stateConfigs } from "../../src/availability/state-config.service.js";
import { StateTracker } from "../../src/availability/state.tracker.js";
import { Bus } from "../../src/bus/bus.js";
import { createLogger } from "../../src/log/logger.js";
import { createHubPubSub } from "../../src/pubsub/pubsub.js";
import { samplesAt, secondsWithin } from "../support/availability.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

/**
 * The reference day, Tuesday 2026-03-10 in Europe/Berlin (UTC+1), two machines on one line.
 * Shifts 06:00-14:00 (break 10:00-10:30) and 14:00-22:00 (break 18:00-18:30).
 *
 * press-a (speed + fault + parts/scrap counters, ideal 10 s, really 12 s a part):
 *   idle 06:00-06:10, running 06:10-08:00, down "jam" 08:00-08:45, running 08:45-10:00,
 *   break 10:00-10:30, idle 10:30-10:35, running 10:35-12:00, maintenance task 12:00-12:30,
 *   running 12:30-22:00 (through the 18:00 break: production in a break counts).
 * filler-b (Machinery mode + PackML state, parts/good counters, ideal 20 s, runs at 20 s):
 *   setup 06:00-06:30, running 06:30-09:00, down "held" 09:00-09:20, running 09:20-10:00,
 *   break 10:00-10:30, running 10:30-13:00, Sparkplug death 13:00-13:30 (offline), running
 *   13:30-16:00, idle 16:00-17:00, running 17:00-18:00, break 18:00-18:30, running 18:30-22:00.
 *
 * Hand-computed (seconds): press-a POT 57,600, PDOT 1,800, PBT 55,800, APT 50,400, ADET 900,
 * ADOT 4,500 (2,700 jam + 1,800 task); 4,200 produced, 84 scrap. filler-b PBT 54,000, APT 45,600,
 * AUST 1,800, ADET 3,600, ADOT 3,000 (1,200 held + 1,800 offline); 2,280 produced, 2,250 good.
 */

const zone = "Europe/Berlin";
const local = (time: string, date = "2026-03-10") => DateTime.fromISO(`${date}T${time}`, { zone }).toMillis();
const dayStart = local("00:00");
const dayEnd = local("00:00", "2026-03-11");
const span = (a: string, b: string): [number, number] => [local(a), local(b)];

const plant = `
enterprise: ref
sites:
  - name: plant
    timezone: ${zone}
    calendar:
      shifts:
        - { name: early, days: [mon, tue, wed, thu, fri], start: "06:00", end: "14:00", breaks: [{ start: "10:00", end: "10:30" }] }
        - { name: late, days: [mon, tue, wed, thu, fri], start: "14:00", end: "22:00", breaks: [{ start: "18:00", end: "18:30" }] }
    areas:
      - name: hall
        lines:
          - name: line-1
            machines:
              - name: press-a
                dataPoints: [{ name: speed }, { name: fault, dataType: integer }, { name: parts, dataType: integer }, { name: scrap, dataType: integer }]
                state:
                  sources:
                    - { point: fault, map: { "1": { state: down, reason: jam } } }
                    - { point: speed, runningAbove: 0 }
                  counters: { produced: parts, scrap: scrap }
                  idealCycleSeconds: 10
              - name: filler-b
                dataPoints: [{ name: mode, dataType: integer }, { name: state, dataType: integer }, { name: parts, dataType: integer }, { name: good, dataType: integer }]
                state:
                  sources:
                    - { point: mode, map: { "1": maintenance, "2": setup } }
                    - { point: state, map: { "6": running, "4": idle, "11": { state: down, reason: held }, "2": { state: down, reason: stopped } } }
                  counters: { produced: parts, good: good }
                  idealCycleSeconds: 20
`;

const runningA = [span("06:10", "08:00"), span("08:45", "10:00"), span("10:35", "12:00"), span("12:30", "22:00")];
const runningB = [span("06:30", "09:00"), span("09:20", "10:00"), span("10:30", "13:00"), span("13:30", "16:00"), span("17:00", "18:00"), span("18:30", "22:00")];
const inside = (stretches: readonly [number, number][], t: number) => stretches.some(([a, b]) => a <= t && t < b);

describe("reference day: states, intervals and ISO 22400 KPIs against hand-computed values", () => {
  let testDb: TestDatabase;
  let tracker: StateTracker;
  const ids = { a: 0, b: 0 };
  let lineId = 0;

  beforeAll(async () => {
    testDb = await createTestDatabase("availability_ref");
    const log = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
    await applyPlantText(testDb.database, plant, "ref.yaml", log);
    ids.a = (await machineByPath(testDb.database.db, "ref/plant/hall/line-1/press-a"))!.id;
    ids.b = (await machineByPath(testDb.database.db, "ref/plant/hall/line-1/filler-b"))!.id;
    lineId = (await machineByPath(testDb.database.db, "ref/plant/hall/line-1/filler-b"))!.lineId;
    const pointsOf = async (id: number) => new Map((await dataPointsByMachine(testDb.database.db, [id])).map((p) => [p.name, p.id]));
    const [pointsA, pointsB] = [await pointsOf(ids.a), await pointsOf(ids.b)];

    const bus = new Bus(log);
    tracker = new StateTracker(testDb.database, bus, createHubPubSub().pubsub, undefined, log, { offlineAfterMs: 3_600_000, timers: false });
    await tracker.start(dayStart);
    await tracker.tick(dayStart);

    for (let t = local("05:50"); t <= local("22:00"); t += 300_000) {
      if (t === local("12:00")) await tracker.task(ids.a, true, t);
      // Through the bus, as the Sparkplug source says it: by path, or by id.
      if (t === local("13:00")) bus.emit("machineConnectivity", { machineId: "ref/plant/hall/line-1/filler-b", online: false, at: new Date(t), reason: "NDEATH" });
      if (t === local("13:30")) bus.emit("machineConnectivity", { machineId: String(ids.b), online: true, at: new Date(t), reason: "NBIRTH" });
      const partsA = Math.floor(secondsWithin(runningA, t) / 12);
      const a = samplesAt(ids.a, pointsA, t, { speed: inside(runningA, t) ? 100 : 0, fault: t >= local("08:00") && t < local("08:45") ? 1 : 0, parts: partsA, scrap: Math.floor(partsA * 0.02) });
      const runB = secondsWithin(runningB, t);
      const state = t < local("06:00") || t >= local("22:00") ? 2 : inside(runningB, t) ? 6 : t >= local("09:00") && t < local("09:20") ? 11 : 4;
      const dead = t >= local("13:00") && t < local("13:30");
      const b = dead ? [] : samplesAt(ids.b, pointsB, t, { mode: t >= local("06:00") && t < local("06:30") ? 2 : 3, state, parts: Math.floor(runB / 20), good: Math.floor(runB / 20) - Math.floor((30 * runB) / 45_600) });
      await tracker.samples([...a, ...b]);
      if (t === local("12:30")) await tracker.task(ids.a, false, t);
    }
    await tracker.tick(dayEnd);
    await tracker.flush();
  });

  afterAll(async () => {
    await tracker?.stop();
    await testDb?.drop();
  });

  async function intervals(machineId: number) {
    const { rows } = await testDb.database.query<{ state: string; reason: string; started_at: Date; ended_at: Date | null }>(
      `select state, reason, started_at, ended_at from machine_state_interval where machine_id = $1 order by started_at`,
      [machineId],
    );
    return rows.map((r) => ({ state: r.state, reason: r.reason, from: DateTime.fromJSDate(r.started_at, { zone }).toFormat("HH:mm"), to: r.ended_at ? DateTime.fromJSDate(r.ended_at, { zone }).toFormat("HH:mm") : null, startedAt: r.started_at, endedAt: r.ended_at }));
  }

  it("records press-a's day as intervals that tile time", async () => {
    const rows = await intervals(ids.a);
    expect(rows.map((r) => [r.state, r.reason, r.from, r.to])).toEqual([
      ["planned_stop", "no_shift", "00:00", "06:00"],
      ["idle", "", "06:00", "06:10"],
      ["running", "", "06:10", "08:00"],
      ["down", "jam", "08:00", "08:45"],
      ["running", "", "08:45", "10:00"],
      ["planned_stop", "break", "10:00", "10:30"],
      ["idle", "", "10:30", "10:35"],
      ["running", "", "10:35", "12:00"],
      ["maintenance", "task", "12:00", "12:30"],
      ["running", "", "12:30", "22:00"],
      ["planned_stop", "no_shift", "22:00", null],
    ]);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.startedAt.getTime()).toBe(rows[i - 1]!.endedAt!.getTime());
  });

  it("records filler-b's setup, held, Sparkplug death and breaks", async () => {
    const rows = await intervals(ids.b);
    expect(rows.map((r) => [r.state, r.reason, r.from, r.to])).toEqual([
      ["planned_stop", "no_shift", "00:00", "06:00"],
      ["setup", "", "06:00", "06:30"],
      ["running", "", "06:30", "09:00"],
      ["down", "held", "09:00", "09:20"],
      ["running", "", "09:20", "10:00"],
      ["planned_stop", "break", "10:00", "10:30"],
      ["running", "", "10:30", "13:00"],
      ["offline", "NDEATH", "13:00", "13:30"],
      ["running", "", "13:30", "16:00"],
      ["idle", "", "16:00", "17:00"],
      ["running", "", "17:00", "18:00"],
      ["planned_stop", "break", "18:00", "18:30"],
      ["running", "", "18:30", "22:00"],
      ["planned_stop", "no_shift", "22:00", null],
    ]);
  });

  it("computes press-a's KPIs for the day to the second", async () => {
    const k = await kpisOf(testDb.database.db, [ids.a], dayStart, dayEnd, dayEnd);
    expect(k).toMatchObject({
      plannedOperationTime: 57_600,
      plannedDownTime: 1_800,
      plannedBusyTime: 55_800,
      actualProductionTime: 50_400,
      actualSetupTime: 0,
      actualDelayTime: 900,
      actualDownTime: 4_500,
      producedQuantity: 4_200,
      scrapQuantity: 84,
      goodQuantity: 4_116,
    });
    expect(k.availability).toBeCloseTo(50_400 / 55_800, 12);
    expect(k.effectiveness).toBeCloseTo((10 * 4_200) / 50_400, 12);
    expect(k.qualityRatio).toBeCloseTo(4_116 / 4_200, 12);
    expect(k.oee).toBeCloseTo((50_400 / 55_800) * (42_000 / 50_400) * (4_116 / 4_200), 12);
    expect(k.utilizationEfficiency).toBeCloseTo(50_400 / 51_300, 12);
    expect(k.allocationEfficiency).toBeCloseTo(51_300 / 55_800, 12);
    expect(k).toMatchObject({ actualUnitProcessingTime: 51_300, actualUnitBusyTime: 51_300 });
    expect(k.downtimeReasons).toEqual([
      { state: "down", reason: "jam", seconds: 2_700, share: 0.6 },
      { state: "maintenance", reason: "task", seconds: 1_800, share: 0.4 },
    ]);
  });

  it("computes filler-b's and the line's KPIs for the day", async () => {
    const b = await kpisOf(testDb.database.db, [ids.b], dayStart, dayEnd, dayEnd);
    expect(b).toMatchObject({ plannedBusyTime: 54_000, actualProductionTime: 45_600, actualSetupTime: 1_800, actualDelayTime: 3_600, actualDownTime: 3_000, producedQuantity: 2_280, goodQuantity: 2_250 });
    expect(b.effectiveness).toBeCloseTo(1, 12);
    expect(b.oee).toBeCloseTo((45_600 / 54_000) * (2_250 / 2_280), 12);

    const line = await kpisOf(testDb.database.db, [ids.a, ids.b], dayStart, dayEnd, dayEnd);
    expect(line).toMatchObject({ plannedBusyTime: 109_800, actualProductionTime: 96_000, producedQuantity: 6_480, goodQuantity: 6_366 });
    expect(line.availability).toBeCloseTo(96_000 / 109_800, 12);
    expect(line.effectiveness).toBeCloseTo(87_600 / 96_000, 12);
    expect(line.oee).toBeCloseTo((96_000 / 109_800) * (87_600 / 96_000) * (6_366 / 6_480), 12);
    expect(line.oee).toBeCloseTo(line.availability! * line.effectiveness! * line.qualityRatio!, 12);
    // The line's own rollups say the same as its machines'.
    expect(await kpisOf(testDb.database.db, [ids.a, ids.b], dayStart, dayEnd, dayEnd, [lineId])).toEqual(line);
  });

  it("computes the early shift and an unaligned window to the second", async () => {
    const early = await kpisOf(testDb.database.db, [ids.a], local("06:00"), local("14:00"), dayEnd);
    // Parts count at the sample that reports them: the 14:00 sample belongs to the late shift.
    expect(early).toMatchObject({ plannedBusyTime: 27_000, actualProductionTime: 21_600, producedQuantity: 1_775 });
    expect(early.availability).toBeCloseTo(0.8, 12);

    const odd = await kpisOf(testDb.database.db, [ids.a], local("08:20:30"), local("15:47:10"), dayEnd);
    expect(odd).toMatchObject({ plannedBusyTime: 26_800 - 1_800, actualProductionTime: 4_500 + 5_100 + 11_830, actualDownTime: 1_470 + 1_800, actualDelayTime: 300 });
  });

  it("flags press-a running persistently slower than its ideal cycle (12 s against 10 s), not filler-b", async () => {
    const configs = await stateConfigs(testDb.database.db, [ids.a, ids.b]);
    const [a] = await cycleTimes(testDb.database.db, ids.a, configs.get(ids.a)!, dayStart, dayEnd);
    expect(a).toMatchObject({ product: "", idealSeconds: 10, slower: true });
    expect(a!.medianSeconds).toBeCloseTo(12, 6);
    expect(a!.samples).toBeGreaterThanOrEqual(9);
    const [b] = await cycleTimes(testDb.database.db, ids.b, configs.get(ids.b)!, dayStart, dayEnd);
    expect(b).toMatchObject({ idealSeconds: 20, slower: false });
    expect(b!.medianSeconds).toBeCloseTo(20, 6);
  });

  it("gives the same answer from day rollups, hour rollups and raw intervals", async () => {
    const wide = await kpisOf(testDb.database.db, [ids.a, ids.b], Date.parse("2026-03-09T00:00:00Z"), Date.parse("2026-03-12T00:00:00Z"), dayEnd);
    const day = await kpisOf(testDb.database.db, [ids.a, ids.b], dayStart, dayEnd, dayEnd);
    expect(wide).toEqual(day);
    expect(await kpisOf(testDb.database.db, [ids.a, ids.b], Date.parse("2026-03-09T00:00:00Z"), Date.parse("2026-03-12T00:00:00Z"), dayEnd, [lineId])).toEqual(day);
  });
});
