import type { Logger } from "../log/logger.js";
import type { Sample } from "../telemetry/sample.js";

/** Events inside one process. Cross-process news travels through the database and the pubsub. */
export interface BusEvents {
  /** Samples committed to the telemetry table (published after the commit). */
  samplesStored: readonly Sample[];
  /** The asset model changed; bindings must be rebuilt. */
  assetsChanged: { readonly at: string };
  /** A source saw a machine go (Sparkplug NDEATH/DDEATH) or come back (BIRTH). */
  machineConnectivity: { machineId: string; online: boolean; at: Date; reason: string };
}
export type BusEventName = keyof BusEvents;
type Listener<K extends BusEventName> = (payload: BusEvents[K]) => void | Promise<void>;

/**
 * A typed in-process bus. A listener that throws or rejects is logged with its owner and never
 * reaches the emitter, so one faulty consumer cannot stop ingest.
 */
export class Bus {
  private readonly listeners = new Map<BusEventName, { owner: string; fn: Listener<never> }[]>();

  constructor(private readonly log: Logger) {}

  on<K extends BusEventName>(owner: string, event: K, fn: Listener<K>): () => void {
    const list = this.listeners.get(event) ?? [];
    const entry = { owner, fn: fn as Listener<never> };
    list.push(entry);
    this.listeners.set(event, list);
    return () => {
      const current = this.listeners.get(event) ?? [];
      this.listeners.set(event, current.filter((e) => e !== entry));
    };
  }

  emit<K extends BusEventName>(event: K, payload: BusEvents[K]): void {
    // A copy: a listener added while emitting waits for the next event.
    for (const { owner, fn } of [...(this.listeners.get(event) ?? [])]) {
      try {
        const result = (fn as Listener<K>)(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.report(owner, event, error));
      } catch (error) {
        this.report(owner, event, error);
      }
    }
  }

  private report(owner: string, event: string, error: unknown): void {
    this.log.error({ err: error, owner, event }, "bus listener failed");
  }
}
