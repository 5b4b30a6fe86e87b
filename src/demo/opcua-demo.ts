import path from "node:path";
import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import type { Logger } from "../log/logger.js";
import { demoSparkplugMachine } from "./sparkplug-demo.js";
import { endpointByName, updateEndpoint } from "../opcua/opcua-endpoint.service.js";
import { trustCertificate } from "../opcua/opcua.trust.js";
import { startOpcuaSimulator, type OpcuaSimulator } from "./opcua-simulator.js";
import { demoSimulatedMachines, type SimulatedMachine } from "./simulator.js";

/** The endpoint src/demo/demo-plant.yaml declares for the simulator. */
export const DEMO_OPCUA_ENDPOINT = "demo-presses";
const DEMO_OPCUA_PORT = 4840;

/** The demo reads the moulding line over OPC UA; the packaging line publishes over MQTT. */
/** The presses read over OPC UA; press-4, on the same line, reports over Sparkplug B instead. */
export const isDemoOpcuaMachine = (machine: Pick<SimulatedMachine, "path">) =>
  machine.path.startsWith("demo/plant-1/production/moulding/") && machine.path !== demoSparkplugMachine.path;

/**
 * Runs the OPC UA machine simulator for the demo plant's presses, when the plant declares its
 * endpoint: on port 4840, or a free port written into the endpoint. The hub trusts the
 * simulator's certificate explicitly (both ends are this process); nothing is ever auto-accepted.
 */
export async function startDemoOpcua(config: Config, database: Database, log: Logger): Promise<OpcuaSimulator | undefined> {
  const endpoint = await endpointByName(database.db, DEMO_OPCUA_ENDPOINT);
  if (!endpoint) return undefined;
  const options = { machines: demoSimulatedMachines().filter(isDemoOpcuaMachine), pkiDir: path.join(path.dirname(config.opcua.pkiDir), "opcua-simulator"), log };
  let simulator: OpcuaSimulator;
  try {
    simulator = await startOpcuaSimulator({ ...options, port: DEMO_OPCUA_PORT });
  } catch (error) {
    log.warn({ err: error, port: DEMO_OPCUA_PORT }, "opc ua simulator port taken; using a free port");
    simulator = await startOpcuaSimulator({ ...options, port: 0 });
  }
  await trustCertificate(config.opcua.pkiDir, simulator.certificate());
  if (endpoint.url !== simulator.endpointUrl) {
    await updateEndpoint(database.db, undefined, endpoint.id, { url: simulator.endpointUrl }, undefined, { actor: "demo" });
  }
  return simulator;
}
