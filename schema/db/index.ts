export * from "./assets.js";
export * from "./telemetry.js";
export * from "./security.js";
