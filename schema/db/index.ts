export * from "./assets.js";
export * from "./telemetry.js";
