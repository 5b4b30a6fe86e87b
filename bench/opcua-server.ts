import { startOpcuaSimulator } from "../src/demo/opcua-simulator.js";
import { createLogger } from "../src/log/logger.js";

/**
 * The OPC UA simulator in a process of its own, so the benchmark's CPU figures are the client's
 * alone. The parent sends { items, pkiDir }, gets { endpointUrl }, and any later message stops it.
 */
process.once("message", async (message: { items: number; pkiDir: string }) => {
  const simulator = await startOpcuaSimulator({ machines: [], loadVariables: message.items, intervalMs: 1_000, pkiDir: message.pkiDir, log: createLogger("silent") });
  process.send!({ endpointUrl: simulator.endpointUrl });
  process.once("message", async () => {
    await simulator.stop();
    process.exit(0);
  });
});
