export * from "./types.js";
export * from "./errors.js";
export { defineConnector } from "./define.js";
export * from "./http.js";
export * from "./webhook.js";
// Test-only modules are imported by path: ./fake-server.js (fakes) and ./contract.js (vitest suite).
