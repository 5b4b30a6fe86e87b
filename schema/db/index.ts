export * from "./assets.js";
export * from "./telemetry.js";
export * from "./security.js";
export * from "./events.js";
export * from "./tasks.js";
export * from "./audit.js";
export * from "./opcua.js";
