/** Epoch-aligned time steps, the grid every bucket and rollup of telemetry lies on. */
export const floorTo = (date: Date, stepMs: number) => new Date(Math.floor(date.getTime() / stepMs) * stepMs);
export const ceilTo = (date: Date, stepMs: number) => new Date(Math.ceil(date.getTime() / stepMs) * stepMs);
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
