import { z } from "zod";
import { machineStates } from "../../schema/db/availability.js";

/**
 * How a machine's state and counts come from its data points: one schema for the plant file and
 * GraphQL. Sources are tried in order; the first with a mapped value gives the machine's signal.
 */

const reasonCode = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, { message: "expected a reason code: lower-case letters, digits and '_'" });
/** What a data point's value may map to: the calendar and connectivity decide planned_stop and offline. */
const signalState = z.enum(machineStates.filter((s) => s !== "planned_stop" && s !== "offline") as ["running", "idle", "down", "maintenance", "setup"]);
const mappedState = z.union([signalState, z.strictObject({ state: signalState, reason: reasonCode.optional() })]);

export const stateSource = z.union([
  /** A state node or status code: value → state (OPC UA Machinery, PackML StateCurrent, a PLC's status word). */
  z.strictObject({
    point: z.string().min(1),
    map: z.record(z.string().regex(/^-?\d+(\.\d+)?$|^(true|false)$/, { message: "expected a number (or true/false) as the value" }), mappedState),
    /** The state for values the map does not list; left out, such values leave the source silent. */
    otherwise: mappedState.optional(),
  }),
  /** A speed: running above the threshold, idle at or below it. */
  z.strictObject({ point: z.string().min(1), runningAbove: z.number() }),
]);
export type StateSource = z.output<typeof stateSource>;

export const machineStateConfig = z.strictObject({
  sources: z.array(stateSource).max(10).optional(),
  counters: z
    .strictObject({
      /** Cumulative counter of parts produced (good + scrap). */
      produced: z.string().min(1).optional(),
      good: z.string().min(1).optional(),
      scrap: z.string().min(1).optional(),
    })
    .optional(),
  /**
   * The job in progress, when the machine reports it (PackML Status.Product[0].ProductId and
   * Admin.ProdProcessedCount, or an OPC 40001 Machinery job's product and processed count): its
   * parts count for that product, so cycle times and ideal seconds follow the product really made.
   */
  job: z
    .strictObject({
      /** A data point whose value identifies the product being made. */
      product: z.string().min(1),
      /** Product names by that value; a value not listed names the product itself ("7" → product "7"). */
      products: z.record(z.string().regex(/^-?\d+$/, { message: "expected a whole number as the value" }), z.string().min(1).max(128)).optional(),
      /** A cumulative count of units completed (may restart at 0 with each job); counts production instead of `counters.produced`. */
      unitsCompleted: z.string().min(1).optional(),
    })
    .optional(),
  /** Planned run time per item (ISO 22400 PRI) when no product-specific one applies. */
  idealCycleSeconds: z.number().positive().max(86_400).optional(),
  /** Ideal cycle time per product this machine can make. */
  products: z.record(z.string().min(1).max(128), z.number().positive().max(86_400)).optional(),
  /** A `down` shorter than this is a minor stop: recorded as `idle` (reason minor_stop), a speed loss, not a breakdown. */
  minorStopSeconds: z.number().positive().max(3_600).optional(),
});
export type MachineStateConfig = z.output<typeof machineStateConfig>;
export type JobSignals = NonNullable<MachineStateConfig["job"]>;

/** The configuration in effect: what was stated, or the defaults a machine's data points suggest. */
export interface EffectiveStateConfig {
  sources: StateSource[];
  counters: { produced?: string; good?: string; scrap?: string };
  job?: JobSignals;
  idealCycleSeconds?: number;
  products: Record<string, number>;
  minorStopSeconds?: number;
}

/**
 * Without sources, a `speed` point decides running or idle (and without one, data arriving means
 * running); without counters, a `parts` point counts production. A job's units completed are the
 * produced counter.
 */
export function effectiveStateConfig(config: MachineStateConfig | undefined, pointNames: readonly string[]): EffectiveStateConfig {
  const has = (name: string) => pointNames.includes(name);
  return {
    sources: config?.sources ?? (has("speed") ? [{ point: "speed", runningAbove: 0 }] : []),
    counters: { ...(config?.counters ?? (has("parts") ? { produced: "parts" } : {})), ...(config?.job?.unitsCompleted ? { produced: config.job.unitsCompleted } : {}) },
    job: config?.job,
    idealCycleSeconds: config?.idealCycleSeconds,
    products: config?.products ?? {},
    minorStopSeconds: config?.minorStopSeconds,
  };
}

/** The ideal cycle time of a product on the machine; undefined when neither it nor a default is known. */
export function idealCycleSeconds(config: Pick<EffectiveStateConfig, "idealCycleSeconds" | "products">, product: string): number | undefined {
  return config.products[product] ?? config.idealCycleSeconds;
}

/** The product a job signal's value names. */
export function jobProduct(job: JobSignals, value: number): string {
  return job.products?.[String(value)] ?? String(value);
}
