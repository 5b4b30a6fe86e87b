import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { quarantine } from "../../schema/db/telemetry.js";
import { applyPlant } from "../../src/assets/plant-apply.js";
import { Bus } from "../../src/bus/bus.js";
import type { Database, RawQuery } from "../../src/db/database.js";
import { createLogger } from "../../src/log/logger.js";
import { LatestValues, loadLatestValues } from "../../src/telemetry/latest-values.js";
import { pageQuarantine, quarantineCounts } from "../../src/telemetry/quarantine.queries.js";
import { qualityCode, type Quality, type Rejection, type Sample } from "../../src/telemetry/sample.js";
import { bucketSeries, rawSeries } from "../../src/telemetry/telemetry.queries.js";
import { TelemetryWriter } from "../../src/telemetry/telemetry.writer.js";
import { createPgliteDatabase, createTestDatabase } from "../support/database.js";

const log = createLogger("silent");
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Minute-aligned (epoch) instant the query tests are built around. */
const BASE = Date.UTC(2024, 2, 1, 10, 0, 0);
const POINTS = 40;

interface Point {
  id: number;
  machineId: number;
  metric: string;
}

/** Observes a promise without awaiting it: whether it settled yet, and how. */
function track(promise: Promise<unknown>) {
  const state: { status: "pending" | "resolved" | "rejected"; error?: unknown } = { status: "pending" };
  promise.then(
    () => void (state.status = "resolved"),
    (error: unknown) => {
      state.status = "rejected";
      state.error = error;
    },
  );
  return state;
}

const backends = [
  {
    name: "PostgreSQL",
    kind: "postgres",
    concurrency: 2,
    open: async () => {
      const test = await createTestDatabase("telemetry_store");
      return { database: test.database, close: test.drop };
    },
  },
  {
    name: "PGlite",
    kind: "pglite",
    concurrency: 1,
    open: async () => {
      const database = await createPgliteDatabase();
      return { database, close: () => database.close() };
    },
  },
] as const;

describe.each(backends)("telemetry store on $name", ({ kind, concurrency, open }) => {
  let database: Database;
  let close: (() => Promise<void>) | undefined;
  let points: Point[] = [];
  let nextPoint = 0;
  /** Every test takes data points of its own, so tests share the database without seeing each other's rows. */
  const point = (): Point => {
    const p = points[nextPoint++];
    if (!p) throw new Error("test plant has too few data points");
    return p;
  };

  const writers: TelemetryWriter[] = [];
  function newWriter(options: { batchMax?: number; flushMs?: number } = {}) {
    const bus = new Bus(log);
    const writer = new TelemetryWriter(database, bus, log, { batchMax: 1000, flushMs: 10, writeConnections: concurrency, ...options });
    writers.push(writer);
    return { writer, bus };
  }

  beforeAll(async () => {
    ({ database, close } = await open());
    await applyPlant(database, {
      enterprise: "telemetry-store",
      sites: [
        {
          name: "plant",
          timezone: "UTC",
          areas: [
            {
              name: "area",
              lines: [
                {
                  name: "line",
                  machines: [
                    {
                      name: "m1",
                      dataPoints: Array.from({ length: POINTS }, (_, i) => ({
                        name: `p${String(i).padStart(2, "0")}`,
                        dataType: "float" as const,
                      })),
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const { rows } = await database.query<{ id: number; machine_id: number; name: string }>(
      "select id, machine_id, name from data_point order by name",
    );
    points = rows.map((r) => ({ id: r.id, machineId: r.machine_id, metric: r.name }));
    expect(points).toHaveLength(POINTS);
  });

  afterEach(async () => {
    for (const writer of writers.splice(0)) await writer.close(2_000).catch(() => {});
  });

  afterAll(async () => {
    await close?.();
  });

  const sample = (p: Point, ts: number, value: number, quality: Quality = "good"): Sample => ({
    dataPointId: p.id,
    machineId: p.machineId,
    metric: p.metric,
    ts,
    value,
    quality,
  });

  async function storedRows(p: Point) {
    const { rows } = await database.query<{ ts: Date | string; value: number; quality: number }>(
      "select ts, value, quality from telemetry where data_point_id = $1 order by ts",
      [p.id],
    );
    return rows.map((r) => ({ ts: new Date(r.ts).getTime(), value: r.value, quality: r.quality }));
  }

  async function countRows(p: Point, fromTs: number, toTs: number): Promise<number> {
    const { rows } = await database.query<{ n: number }>(
      "select count(*)::int as n from telemetry where data_point_id = $1 and ts >= $2 and ts <= $3",
      [p.id, new Date(fromTs).toISOString(), new Date(toTs).toISOString()],
    );
    return rows[0]?.n ?? -1;
  }

  /** Inserts readings directly, so the query tests do not depend on the writer. */
  async function insertRows(p: Point, rows: { ts: number; value: number; quality?: Quality }[]): Promise<void> {
    await database.query(
      `insert into telemetry (data_point_id, ts, value, quality)
       select $1, t, v, q from unnest($2::timestamptz[], $3::float8[], $4::int2[]) as u(t, v, q)`,
      [
        p.id,
        rows.map((r) => new Date(r.ts).toISOString()),
        rows.map((r) => r.value),
        rows.map((r) => qualityCode[r.quality ?? "good"]),
      ],
    );
  }

  it(`runs on ${kind}`, () => {
    expect(database.kind).toBe(kind);
  });

  describe("TelemetryWriter", () => {
    it("resolves a write only once its rows are in the table, and publishes samplesStored after the commit", async () => {
      const p = point();
      const { writer, bus } = newWriter({ batchMax: 3, flushMs: 20 });
      const seenAtEmit: Promise<number>[] = [];
      bus.on("test", "samplesStored", (samples) => {
        const first = samples[0]!;
        const last = samples[samples.length - 1]!;
        seenAtEmit.push(countRows(p, first.ts, last.ts));
      });

      // Below batchMax: written when the flush timer fires.
      await writer.write({ samples: [sample(p, BASE + 1, 1.5, "uncertain")], rejections: [] });
      expect(await storedRows(p)).toEqual([{ ts: BASE + 1, value: 1.5, quality: 1 }]);

      // At batchMax: written at once.
      const three = [sample(p, BASE + 999, -2), sample(p, BASE + 1_000, 3, "bad"), sample(p, BASE + 60_001, 4)];
      await writer.write({ samples: three, rejections: [] });
      expect(await storedRows(p)).toEqual([
        { ts: BASE + 1, value: 1.5, quality: 1 },
        { ts: BASE + 999, value: -2, quality: 0 },
        { ts: BASE + 1_000, value: 3, quality: 2 },
        { ts: BASE + 60_001, value: 4, quality: 0 },
      ]);

      expect(await Promise.all(seenAtEmit)).toEqual([1, 3]);
      expect(writer.stats).toMatchObject({ stored: 4, duplicates: 0, quarantined: 0, pending: 0, failedAttempts: 0 });
    });

    it("stores a (dataPointId, ts) written twice in one batch once and counts the duplicate", async () => {
      const p = point();
      const { writer } = newWriter();

      await writer.write({
        samples: [sample(p, BASE, 1), sample(p, BASE, 2), sample(p, BASE + 1, 3)],
        rejections: [],
      });

      expect(await storedRows(p)).toEqual([
        { ts: BASE, value: 1, quality: 0 },
        { ts: BASE + 1, value: 3, quality: 0 },
      ]);
      expect(writer.stats).toMatchObject({ stored: 2, duplicates: 1, batches: 1 });
    });

    it("stores a (dataPointId, ts) written again in a later batch once and counts the duplicate", async () => {
      const p = point();
      const { writer } = newWriter();

      await writer.write({ samples: [sample(p, BASE, 5)], rejections: [] });
      await writer.write({ samples: [sample(p, BASE, 6), sample(p, BASE + 1, 7)], rejections: [] });

      expect(await storedRows(p)).toEqual([
        { ts: BASE, value: 5, quality: 0 },
        { ts: BASE + 1, value: 7, quality: 0 },
      ]);
      expect(writer.stats).toMatchObject({ stored: 2, duplicates: 1, batches: 2 });
    });

    it("stores a key once when two batches carrying it are written at the same time", async () => {
      const p = point();
      // batchMax 1: every write is its own batch, started at once (two connections on PostgreSQL).
      const { writer } = newWriter({ batchMax: 1 });

      await Promise.all([
        writer.write({ samples: [sample(p, BASE, 1)], rejections: [] }),
        writer.write({ samples: [sample(p, BASE, 1)], rejections: [] }),
      ]);

      expect(await storedRows(p)).toEqual([{ ts: BASE, value: 1, quality: 0 }]);
      expect(writer.stats).toMatchObject({ stored: 1, duplicates: 1, batches: 2 });
    });

    it("writes rejections to the quarantine table with reason, detail, topic, payload and data point", async () => {
      const p = point();
      const { writer, bus } = newWriter();
      const events: (readonly Sample[])[] = [];
      bus.on("test", "samplesStored", (samples) => void events.push(samples));
      const topic = `plant/m1/${p.metric}/telemetry`;
      const rejections: Rejection[] = [
        { source: "mqtt", topic, payload: '{"temperature":"hot"}', reason: "wrong_type", detail: "temperature: expected a number", dataPointId: p.id },
        { source: "mqtt", topic: `${topic}/unknown`, payload: "not json", reason: "unknown_topic", detail: "no binding" },
      ];

      await writer.write({ samples: [], rejections });

      const { rows } = await database.query(
        `select source, topic, payload, reason, detail, data_point_id from quarantine
          where topic like $1 order by id`,
        [`${topic}%`],
      );
      expect(rows).toEqual([
        { source: "mqtt", topic, payload: '{"temperature":"hot"}', reason: "wrong_type", detail: "temperature: expected a number", data_point_id: p.id },
        { source: "mqtt", topic: `${topic}/unknown`, payload: "not json", reason: "unknown_topic", detail: "no binding", data_point_id: null },
      ]);
      expect(writer.stats).toMatchObject({ quarantined: 2, stored: 0 });
      // Nothing was stored, so nothing is announced.
      expect(events).toEqual([]);

      // Samples and rejections of one message travel together.
      await writer.write({
        samples: [sample(p, BASE, 1)],
        rejections: [{ source: "mqtt", topic, payload: "{}", reason: "missing_value", detail: "speed missing", dataPointId: p.id }],
      });
      expect(await storedRows(p)).toEqual([{ ts: BASE, value: 1, quality: 0 }]);
      const { rows: after } = await database.query<{ reason: string }>("select reason from quarantine where topic = $1 order by id", [topic]);
      expect(after.map((r) => r.reason)).toEqual(["wrong_type", "missing_value"]);
      expect(writer.stats).toMatchObject({ quarantined: 3, stored: 1 });
    });

    it("quarantines a binary payload containing NUL bytes instead of stalling on it", async () => {
      const p = point();
      const { writer } = newWriter();
      const topic = `plant/m1/${p.metric}/binary`;
      // What the normalizer makes of a protobuf (or any binary) message on a JSON topic: PostgreSQL
      // text cannot hold U+0000, and V8's JSON.parse error message quotes the offending character.
      const payload = Buffer.from([0x08, 0x00, 0x12, 0x03, 0x61, 0x62, 0x63]).toString("utf8");
      const detail = `not JSON: ${(() => {
        try {
          JSON.parse(payload);
          return "";
        } catch (error) {
          return (error as Error).message;
        }
      })()}`;
      expect(payload + detail).toContain("\u0000");

      const written = writer.write({ samples: [sample(p, BASE, 1)], rejections: [{ source: "mqtt", topic, payload, reason: "malformed_payload", detail }] });
      const later = writer.write({ samples: [sample(p, BASE + 1, 2)], rejections: [] });
      const outcome = await Promise.race([Promise.all([written, later]).then(() => "written"), sleep(2_000).then(() => "stalled")]);

      expect(outcome).toBe("written");
      const { rows } = await database.query<{ payload: string; detail: string }>("select payload, detail from quarantine where topic = $1", [topic]);
      expect(rows).toEqual([{ payload: payload.replaceAll("\u0000", "\uFFFD"), detail: detail.replaceAll("\u0000", "\uFFFD") }]);
      expect(await storedRows(p)).toHaveLength(2);
    });

    it("resolves 50 concurrent writes of 200 samples, in order, and announces them in the order written", async () => {
      const p = point();
      const { writer, bus } = newWriter({ batchMax: 1000, flushMs: 5 });
      const events: { first: Sample; size: number }[] = [];
      const announced: Sample[] = [];
      bus.on("test", "samplesStored", (samples) => {
        events.push({ first: samples[0]!, size: samples.length });
        announced.push(...samples);
      });

      const WRITES = 50;
      const PER_WRITE = 200;
      const requests = Array.from({ length: WRITES }, (_, w) =>
        Array.from({ length: PER_WRITE }, (_, i) => sample(p, BASE + (w * PER_WRITE + i) * 1_000, w * PER_WRITE + i)),
      );
      const resolvedOrder: number[] = [];
      // Right after each write resolves, its rows must already be readable.
      const visibleAtResolve = requests.map((samples, w) =>
        writer.write({ samples, rejections: [] }).then(() => {
          resolvedOrder.push(w);
          return countRows(p, samples[0]!.ts, samples[PER_WRITE - 1]!.ts);
        }),
      );

      expect(await Promise.all(visibleAtResolve)).toEqual(requests.map(() => PER_WRITE));
      expect(resolvedOrder).toEqual(requests.map((_, w) => w));
      expect(announced).toEqual(requests.flat());
      // Each event starts with the first sample of a write, in the order the writes were made.
      const firstOfWrite = new Map(requests.map((samples, w) => [samples[0]!, w]));
      const eventWrites = events.map((e) => firstOfWrite.get(e.first));
      expect(eventWrites.every((w) => w !== undefined)).toBe(true);
      expect(eventWrites).toEqual([...eventWrites].sort((a, b) => a! - b!));
      expect(new Set(eventWrites).size).toBe(eventWrites.length);
      expect(Math.max(...events.map((e) => e.size))).toBeLessThanOrEqual(1000);
      expect(events.length).toBeGreaterThanOrEqual((WRITES * PER_WRITE) / 1000);
      expect(writer.stats).toMatchObject({ stored: WRITES * PER_WRITE, duplicates: 0, pending: 0, batches: events.length });
      expect((await storedRows(p)).length).toBe(WRITES * PER_WRITE);
    });

    it("flush() writes what is queued before the flush timer would", async () => {
      const p = point();
      const { writer } = newWriter({ flushMs: 60_000 });
      const first = track(writer.write({ samples: [sample(p, BASE, 1)], rejections: [] }));
      const second = track(writer.write({ samples: [sample(p, BASE + 1, 2)], rejections: [] }));
      await sleep(50);
      expect(first.status).toBe("pending");
      expect(writer.stats.pending).toBe(2);
      expect(await storedRows(p)).toEqual([]);

      await writer.flush();

      expect([first.status, second.status]).toEqual(["resolved", "resolved"]);
      expect(writer.stats.pending).toBe(0);
      expect(await storedRows(p)).toEqual([
        { ts: BASE, value: 1, quality: 0 },
        { ts: BASE + 1, value: 2, quality: 0 },
      ]);
      // Nothing is left to write: flushing again is immediate and writes nothing.
      const batches = writer.stats.batches;
      await writer.flush();
      expect(writer.stats.batches).toBe(batches);
    });

    it("close() writes everything queued and in flight; writes after close reject", async () => {
      const p = point();
      const { writer, bus } = newWriter({ batchMax: 2, flushMs: 60_000 });
      let announced = 0;
      bus.on("test", "samplesStored", (samples) => void (announced += samples.length));
      // Two full batches start at once, the third write waits for the (far) flush timer.
      const writes = [0, 1, 2, 3, 4].map((i) => track(writer.write({ samples: [sample(p, BASE + i, i)], rejections: [] })));

      await writer.close();

      expect(writes.map((w) => w.status)).toEqual(["resolved", "resolved", "resolved", "resolved", "resolved"]);
      expect(writer.stats).toMatchObject({ pending: 0, stored: 5 });
      expect(announced).toBe(5);
      expect((await storedRows(p)).map((r) => r.value)).toEqual([0, 1, 2, 3, 4]);

      await expect(writer.write({ samples: [sample(p, BASE + 10, 10)], rejections: [] })).rejects.toThrow(/closed/);
      await writer.flush();
      expect(await storedRows(p)).toHaveLength(5);
      expect(writer.stats.pending).toBe(0);
    });

    if (kind === "postgres") {
      it("retries while the database refuses inserts and resolves only once the row is stored, exactly once", async () => {
        const p = point();
        const { writer, bus } = newWriter({ flushMs: 5 });
        const announced: Sample[] = [];
        bus.on("test", "samplesStored", (samples) => void announced.push(...samples));
        const a = sample(p, BASE, 1);
        const b = sample(p, BASE + 1, 2);

        await database.query("alter table telemetry rename to telemetry_away");
        let first: Promise<void>;
        let second: Promise<void>;
        try {
          first = writer.write({ samples: [a], rejections: [] });
          const firstState = track(first);
          await sleep(150);
          second = writer.write({ samples: [b], rejections: [] });
          const secondState = track(second);
          await sleep(150);

          expect(firstState.status).toBe("pending");
          expect(secondState.status).toBe("pending");
          expect(writer.stats.failedAttempts).toBeGreaterThan(0);
          expect(writer.stats.stored).toBe(0);
          expect(announced).toEqual([]);
        } finally {
          await database.query("alter table telemetry_away rename to telemetry");
        }

        const order: string[] = [];
        await Promise.all([first.then(() => order.push("first")), second.then(() => order.push("second"))]);

        expect(order).toEqual(["first", "second"]);
        expect(await storedRows(p)).toEqual([
          { ts: BASE, value: 1, quality: 0 },
          { ts: BASE + 1, value: 2, quality: 0 },
        ]);
        expect(writer.stats).toMatchObject({ stored: 2, duplicates: 0, pending: 0 });
        expect(announced).toEqual([a, b]);
      });
    }
  });

  describe("telemetry.queries", () => {
    it("rawSeries returns readings in [from, to), oldest first, up to the limit", async () => {
      const p = point();
      const other = point();
      // Inserted out of order; millisecond timestamps must come back exactly.
      await insertRows(p, [
        { ts: BASE + 3_000, value: 3 },
        { ts: BASE - 1, value: -1 },
        { ts: BASE + 999, value: 1, quality: "uncertain" },
        { ts: BASE, value: 0 },
        { ts: BASE + 5_000, value: 5 },
        { ts: BASE + 2_001, value: 2, quality: "bad" },
      ]);
      await insertRows(other, [{ ts: BASE + 1_500, value: 100 }]);
      const range = { from: new Date(BASE), to: new Date(BASE + 5_000) };

      const all = await rawSeries(database, p.id, { ...range, limit: 100 });

      expect(all).toEqual([
        { ts: new Date(BASE), value: 0, min: 0, max: 0, count: 1, quality: "good" },
        { ts: new Date(BASE + 999), value: 1, min: 1, max: 1, count: 1, quality: "uncertain" },
        { ts: new Date(BASE + 2_001), value: 2, min: 2, max: 2, count: 1, quality: "bad" },
        { ts: new Date(BASE + 3_000), value: 3, min: 3, max: 3, count: 1, quality: "good" },
      ]);
      const limited = await rawSeries(database, p.id, { ...range, limit: 2 });
      expect(limited.map((r) => r.value)).toEqual([0, 1]);
      expect(await rawSeries(database, p.id, { from: new Date(BASE + 5_001), to: new Date(BASE + 9_000), limit: 10 })).toEqual([]);
    });

    it("bucketSeries gives avg/min/max/count and the worst quality per epoch-aligned minute, without empty buckets", async () => {
      const p = point();
      const other = point();
      await insertRows(p, [
        { ts: BASE, value: 1_000 }, // before `from`
        // minute 0 (`from` is 5 s into it)
        { ts: BASE + 15_000, value: 20 },
        { ts: BASE + 30_000, value: 10 },
        { ts: BASE + 59_999, value: 30, quality: "uncertain" },
        // minute 1: no readings
        // minute 2
        { ts: BASE + 120_000, value: -5, quality: "bad" },
        { ts: BASE + 150_000, value: 5, quality: "uncertain" },
        // minute 3 (`to` is 30 s into it)
        { ts: BASE + 180_000, value: 7 },
        { ts: BASE + 209_999, value: 9 },
        { ts: BASE + 210_000, value: 999 }, // at `to`: excluded
      ]);
      await insertRows(other, [{ ts: BASE + 60_000, value: 50 }]);

      const buckets = await bucketSeries(database, p.id, {
        from: new Date(BASE + 5_000),
        to: new Date(BASE + 210_000),
        bucketSeconds: 60,
      });

      expect(buckets).toEqual([
        { ts: new Date(BASE), value: 20, min: 10, max: 30, count: 3, quality: "uncertain" },
        { ts: new Date(BASE + 120_000), value: 0, min: -5, max: 5, count: 2, quality: "bad" },
        { ts: new Date(BASE + 180_000), value: 8, min: 7, max: 9, count: 2, quality: "good" },
      ]);
      for (const b of buckets) expect(b.ts.getTime() % 60_000).toBe(0);
    });
  });

  describe("latest values", () => {
    it("loadLatestValues returns the newest row per data point and nothing for a point without rows", async () => {
      const [a, b, empty] = [point(), point(), point()];
      await insertRows(a, [
        { ts: BASE + 2_000, value: 2, quality: "uncertain" },
        { ts: BASE, value: 0 },
        { ts: BASE + 1_000, value: 1 },
      ]);
      await insertRows(b, [
        { ts: BASE + 500, value: 50, quality: "bad" },
        { ts: BASE + 100, value: 10 },
      ]);

      const latest = await loadLatestValues(database, [a.id, b.id, empty.id]);

      expect(latest).toEqual(
        new Map([
          [a.id, { value: 2, ts: new Date(BASE + 2_000), quality: "uncertain" }],
          [b.id, { value: 50, ts: new Date(BASE + 500), quality: "bad" }],
        ]),
      );
      expect(await loadLatestValues(database, [])).toEqual(new Map());
    });

    it("with a bus, the cache follows samplesStored without reading the database and ignores older samples", async () => {
      const [loaded, fresh] = [point(), point()];
      await insertRows(loaded, [{ ts: BASE + 2_000, value: 2 }]);
      const bus = new Bus(log);
      const latest = new LatestValues(database, bus);

      expect(await latest.get([loaded.id, fresh.id])).toEqual([{ value: 2, ts: new Date(BASE + 2_000), quality: "good" }, undefined]);

      // None of these samples is in the table: what get() returns can only come from the bus.
      bus.emit("samplesStored", [sample(loaded, BASE + 3_000, 3, "bad"), sample(fresh, BASE + 10, 10)]);
      expect(await latest.get([loaded.id, fresh.id])).toEqual([
        { value: 3, ts: new Date(BASE + 3_000), quality: "bad" },
        { value: 10, ts: new Date(BASE + 10), quality: "good" },
      ]);

      // An older sample than the cached one changes nothing; within one event the newest wins.
      bus.emit("samplesStored", [sample(loaded, BASE + 2_500, 99), sample(fresh, BASE + 30, 30), sample(fresh, BASE + 20, 20)]);
      expect(await latest.get([loaded.id, fresh.id])).toEqual([
        { value: 3, ts: new Date(BASE + 3_000), quality: "bad" },
        { value: 30, ts: new Date(BASE + 30), quality: "good" },
      ]);
      expect(await loadLatestValues(database, [loaded.id, fresh.id])).toEqual(
        new Map([[loaded.id, { value: 2, ts: new Date(BASE + 2_000), quality: "good" }]]),
      );
    });

    it("with a bus, follows what a TelemetryWriter on that bus stores", async () => {
      const p = point();
      const { writer, bus } = newWriter();
      const latest = new LatestValues(database, bus);
      expect(await latest.get([p.id])).toEqual([undefined]);

      await writer.write({ samples: [sample(p, BASE + 1_000, 1), sample(p, BASE + 2_000, 2, "uncertain")], rejections: [] });

      expect(await latest.get([p.id])).toEqual([{ value: 2, ts: new Date(BASE + 2_000), quality: "uncertain" }]);
    });

    it("without a bus, reads the database on every call", async () => {
      const p = point();
      const latest = new LatestValues(database, undefined);
      expect(await latest.get([p.id])).toEqual([undefined]);

      await insertRows(p, [{ ts: BASE, value: 1 }]);
      expect(await latest.get([p.id])).toEqual([{ value: 1, ts: new Date(BASE), quality: "good" }]);

      await insertRows(p, [{ ts: BASE + 1_000, value: 2, quality: "bad" }]);
      expect(await latest.get([p.id])).toEqual([{ value: 2, ts: new Date(BASE + 1_000), quality: "bad" }]);
    });
  });

  describe("quarantine.queries", () => {
    // The writer tests leave rows behind; these tests count the whole table.
    beforeEach(async () => {
      await database.query("delete from quarantine");
    });

    async function seed() {
      const row = (reason: Rejection["reason"], topic: string) => ({
        source: "mqtt",
        topic,
        payload: `payload of ${topic}`,
        reason,
        detail: `detail of ${topic}`,
      });
      return database.db
        .insert(quarantine)
        .values([
          row("malformed_payload", "t/1"),
          row("unknown_topic", "t/2"),
          row("malformed_payload", "t/3"),
          row("missing_value", "t/4"),
          row("malformed_payload", "t/5"),
          row("unknown_topic", "t/6"),
          row("malformed_payload", "t/7"),
        ])
        .returning({ id: quarantine.id, reason: quarantine.reason, topic: quarantine.topic });
    }

    it("pageQuarantine lists newest first with the total count", async () => {
      const seeded = await seed();
      const newestFirst = [...seeded].sort((x, y) => y.id - x.id);

      const page = await pageQuarantine(database.db, {}, { limit: 100 });

      expect(page.totalCount).toBe(7);
      expect(page.rows.map((r) => r.id)).toEqual(newestFirst.map((r) => r.id));
      expect(page.rows.map((r) => r.topic)).toEqual(["t/7", "t/6", "t/5", "t/4", "t/3", "t/2", "t/1"]);
      expect(page.rows[0]).toMatchObject({ source: "mqtt", payload: "payload of t/7", detail: "detail of t/7", dataPointId: null });
      expect(page.rows[0]!.receivedAt).toBeInstanceOf(Date);

      const byTopic = await pageQuarantine(database.db, { topic: "t/4" }, { limit: 100 });
      expect(byTopic).toMatchObject({ totalCount: 1, rows: [{ topic: "t/4", reason: "missing_value" }] });
    });

    it("pageQuarantine filters by reason and pages by beforeId; totalCount counts the whole filter", async () => {
      await seed();

      const first = await pageQuarantine(database.db, { reason: "malformed_payload" }, { limit: 3 });
      expect(first.totalCount).toBe(4);
      expect(first.rows.map((r) => r.topic)).toEqual(["t/7", "t/5", "t/3"]);

      const second = await pageQuarantine(database.db, { reason: "malformed_payload" }, { limit: 3, beforeId: first.rows[2]!.id });
      expect(second.totalCount).toBe(4);
      expect(second.rows.map((r) => r.topic)).toEqual(["t/1"]);

      const third = await pageQuarantine(database.db, { reason: "malformed_payload" }, { limit: 3, beforeId: second.rows[0]!.id });
      expect(third).toEqual({ rows: [], totalCount: 4 });

      // beforeId without a filter pages through everything.
      const unfiltered = await pageQuarantine(database.db, {}, { limit: 2, beforeId: first.rows[1]!.id });
      expect(unfiltered.rows.map((r) => r.topic)).toEqual(["t/4", "t/3"]);
      expect(unfiltered.totalCount).toBe(7);

      expect(await pageQuarantine(database.db, { reason: "bad_timestamp" }, { limit: 10 })).toEqual({ rows: [], totalCount: 0 });
    });

    it("quarantineCounts counts rows per reason", async () => {
      expect(await quarantineCounts(database.db)).toEqual([]);
      await seed();

      expect(await quarantineCounts(database.db)).toEqual([
        { reason: "malformed_payload", count: 4 },
        { reason: "missing_value", count: 1 },
        { reason: "unknown_topic", count: 2 },
      ]);
    });
  });

  if (kind === "postgres") {
    describe("bucket query plan", () => {
      it("walks telemetry_pkey for one data point over 24 h of a 200,000-row table", async () => {
        const bulk = Array.from({ length: 10 }, () => point());
        const start = Date.UTC(2024, 5, 1);
        // 20,000 readings every 30 s (about 7 days) for each of 10 data points.
        const inserted = await database.query(
          `insert into telemetry (data_point_id, ts, value, quality)
           select p.id, $2::timestamptz + i * interval '30 seconds', sin(i / 100.0) * 50 + p.id, (i % 3)::int2
           from unnest($1::int4[]) as p(id), generate_series(0, 19999) as i`,
          [bulk.map((p) => p.id), new Date(start).toISOString()],
        );
        expect(inserted.rowCount).toBe(200_000);
        await database.query("analyze telemetry");

        // Run the real query through a recording handle, then explain exactly that statement.
        const statements: { text: string; params: unknown[] | undefined }[] = [];
        const query: RawQuery = (text, params) => {
          statements.push({ text, params });
          return database.query(text, params);
        };
        const target = bulk[3]!;
        const day = { from: new Date(start + 86_400_000), to: new Date(start + 2 * 86_400_000), bucketSeconds: 60 };
        const buckets = await bucketSeries({ ...database, query }, target.id, day);

        expect(buckets).toHaveLength(1_440);
        expect(buckets.every((b) => b.count === 2)).toBe(true);
        expect(buckets[0]!.ts).toEqual(day.from);
        expect(statements).toHaveLength(1);

        const { rows } = await database.query<{ "QUERY PLAN": unknown }>(`explain (format json) ${statements[0]!.text}`, statements[0]!.params);
        const nodes: Record<string, unknown>[] = [];
        const walk = (node: Record<string, unknown>) => {
          nodes.push(node);
          for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
        };
        const plan = rows[0]!["QUERY PLAN"];
        walk(((typeof plan === "string" ? JSON.parse(plan) : plan) as { Plan: Record<string, unknown> }[])[0]!.Plan);

        const summary = nodes.map((n) => `${String(n["Node Type"])} ${String(n["Index Name"] ?? n["Relation Name"] ?? "")}`.trim());
        // telemetry is partitioned by day: its partitions' primary keys are the indexes to walk.
        expect(summary.filter((s) => /^Seq Scan telemetry(_p\d+|_default)?$/.test(s)), summary.join(" / ")).toEqual([]);
        expect(
          summary.some((s) => /^(Index|Index Only|Bitmap Index) Scan telemetry(_p\d+|_default)?_pkey$/.test(s)),
          summary.join(" / "),
        ).toBe(true);
      });
    });
  }
});
