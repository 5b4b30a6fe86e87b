import type { Bus } from "../bus/bus.js";

interface Waiter {
  accept: (value: number) => boolean;
  last: number | undefined;
  resolve: (value: number | undefined) => void;
}

/**
 * Read-back for transports where the machine reports its value itself (plain MQTT, Sparkplug):
 * the first committed sample of the point that the write's tolerance accepts, or, when none does
 * within the timeout, the last one reported (undefined when there was none). Only samples stored
 * after the wait began count, so start waiting before sending.
 */
export class ReportedValues {
  private readonly waiters = new Map<number, Set<Waiter>>();

  constructor(bus: Bus) {
    bus.on("actuation-read-back", "samplesStored", (samples) => {
      for (const sample of samples) {
        for (const waiter of this.waiters.get(sample.dataPointId) ?? []) {
          waiter.last = sample.value;
          if (waiter.accept(sample.value)) waiter.resolve(sample.value);
        }
      }
    });
  }

  next(dataPointId: number, accept: (value: number) => boolean, timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const waiters = this.waiters.get(dataPointId) ?? new Set<Waiter>();
      this.waiters.set(dataPointId, waiters);
      const finish = (value: number | undefined) => {
        clearTimeout(timer);
        waiters.delete(waiter);
        if (waiters.size === 0) this.waiters.delete(dataPointId);
        resolve(value);
      };
      const waiter: Waiter = { accept, last: undefined, resolve: finish };
      const timer = setTimeout(() => finish(waiter.last), timeoutMs);
      waiters.add(waiter);
    });
  }
}
