import { describe, expect, it } from "vitest";
import { Bus } from "../../src/bus/bus.js";
import type { Logger } from "../../src/log/logger.js";
import type { Sample } from "../../src/telemetry/sample.js";

interface LoggedError {
  fields: { err: unknown; owner: string; event: string };
  message: string;
}

function fakeLogger(): { log: Logger; errors: LoggedError[] } {
  const errors: LoggedError[] = [];
  const log = {
    error(fields: LoggedError["fields"], message: string) {
      errors.push({ fields, message });
    },
  };
  return { log: log as unknown as Logger, errors };
}

/** Lets pending promise rejections and their catch handlers run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const sample: Sample = { dataPointId: 1, machineId: 2, metric: "speed", ts: 1_714_564_800_000, value: 12, quality: "good" };

describe("Bus", () => {
  it("delivers the payload to every listener of the event, in subscription order", () => {
    const { log, errors } = fakeLogger();
    const bus = new Bus(log);
    const seen: string[] = [];
    const payloads: unknown[] = [];
    bus.on("a", "samplesStored", (samples) => {
      seen.push("a");
      payloads.push(samples);
    });
    bus.on("b", "samplesStored", (samples) => {
      seen.push("b");
      payloads.push(samples);
    });
    const batch = [sample];
    bus.emit("samplesStored", batch);
    expect(seen).toEqual(["a", "b"]);
    expect(payloads[0]).toBe(batch);
    expect(payloads[1]).toBe(batch);
    expect(errors).toEqual([]);
  });

  it("delivers only to listeners of the emitted event", () => {
    const { log } = fakeLogger();
    const bus = new Bus(log);
    const assets: unknown[] = [];
    const samples: unknown[] = [];
    bus.on("x", "assetsChanged", (p) => void assets.push(p));
    bus.on("y", "samplesStored", (p) => void samples.push(p));
    bus.emit("assetsChanged", { at: "2024-05-01T12:00:00Z" });
    expect(assets).toEqual([{ at: "2024-05-01T12:00:00Z" }]);
    expect(samples).toEqual([]);
  });

  it("emitting with no listeners does nothing", () => {
    const { log, errors } = fakeLogger();
    expect(() => new Bus(log).emit("samplesStored", [])).not.toThrow();
    expect(errors).toEqual([]);
  });

  it("logs a throwing listener with its owner and keeps going", () => {
    const { log, errors } = fakeLogger();
    const bus = new Bus(log);
    const failure = new Error("boom");
    const seen: string[] = [];
    bus.on("first", "samplesStored", () => void seen.push("first"));
    bus.on("faulty", "samplesStored", () => {
      throw failure;
    });
    bus.on("last", "samplesStored", () => void seen.push("last"));
    expect(() => bus.emit("samplesStored", [sample])).not.toThrow();
    expect(seen).toEqual(["first", "last"]);
    expect(errors).toEqual([{ fields: { err: failure, owner: "faulty", event: "samplesStored" }, message: "bus listener failed" }]);
  });

  it("logs a rejecting async listener with its owner and keeps going", async () => {
    const { log, errors } = fakeLogger();
    const bus = new Bus(log);
    const failure = new Error("async boom");
    const seen: string[] = [];
    bus.on("async-faulty", "assetsChanged", async () => {
      await Promise.resolve();
      throw failure;
    });
    bus.on("after", "assetsChanged", () => void seen.push("after"));
    expect(() => bus.emit("assetsChanged", { at: "now" })).not.toThrow();
    expect(seen).toEqual(["after"]);
    await settle();
    expect(errors).toEqual([{ fields: { err: failure, owner: "async-faulty", event: "assetsChanged" }, message: "bus listener failed" }]);
  });

  it("keeps delivering on later emits after a listener failed", async () => {
    const { log, errors } = fakeLogger();
    const bus = new Bus(log);
    let calls = 0;
    bus.on("sync-faulty", "samplesStored", () => {
      throw new Error("x");
    });
    bus.on("async-faulty", "samplesStored", () => Promise.reject(new Error("y")));
    bus.on("counter", "samplesStored", () => void calls++);
    bus.emit("samplesStored", []);
    bus.emit("samplesStored", []);
    await settle();
    expect(calls).toBe(2);
    expect(errors.map((e) => e.fields.owner).sort()).toEqual(["async-faulty", "async-faulty", "sync-faulty", "sync-faulty"]);
  });

  it("does not log a resolving async listener", async () => {
    const { log, errors } = fakeLogger();
    const bus = new Bus(log);
    let done = false;
    bus.on("ok", "samplesStored", async () => {
      await Promise.resolve();
      done = true;
    });
    bus.emit("samplesStored", []);
    await settle();
    expect(done).toBe(true);
    expect(errors).toEqual([]);
  });

  it("stops delivering to an unsubscribed listener, leaving the others", () => {
    const { log } = fakeLogger();
    const bus = new Bus(log);
    const seen: string[] = [];
    const offA = bus.on("a", "assetsChanged", () => void seen.push("a"));
    bus.on("b", "assetsChanged", () => void seen.push("b"));
    bus.emit("assetsChanged", { at: "1" });
    offA();
    bus.emit("assetsChanged", { at: "2" });
    offA();
    bus.emit("assetsChanged", { at: "3" });
    expect(seen).toEqual(["a", "b", "b", "b"]);
  });

  it("unsubscribes only the one registration of a function added twice", () => {
    const { log } = fakeLogger();
    const bus = new Bus(log);
    let calls = 0;
    const fn = () => void calls++;
    const off1 = bus.on("a", "assetsChanged", fn);
    bus.on("a", "assetsChanged", fn);
    bus.emit("assetsChanged", { at: "1" });
    expect(calls).toBe(2);
    off1();
    bus.emit("assetsChanged", { at: "2" });
    expect(calls).toBe(3);
  });

  it("a listener may unsubscribe a later one during an emit without breaking that emit", () => {
    const { log, errors } = fakeLogger();
    const bus = new Bus(log);
    const seen: string[] = [];
    let offB: () => void = () => {};
    bus.on("a", "assetsChanged", () => {
      seen.push("a");
      offB();
    });
    offB = bus.on("b", "assetsChanged", () => void seen.push("b"));
    bus.emit("assetsChanged", { at: "1" });
    bus.emit("assetsChanged", { at: "2" });
    expect(errors).toEqual([]);
    // The second emit certainly no longer reaches b.
    expect(seen.slice(-1)).toEqual(["a"]);
    expect(seen.filter((s) => s === "b").length).toBeLessThanOrEqual(1);
  });
});
