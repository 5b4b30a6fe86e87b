export * from "./types.js";
export * from "./errors.js";
export { defineConnector } from "./define.js";
