import type { Logger } from "../log/logger.js";
import { initialMachineState, machineProfiles, nextMachineState, type MachineProfile, type Simulator } from "./simulator.js";
import { SparkplugEdgeNode } from "./sparkplug-edge-node.js";

/**
 * The demo's Sparkplug B machine: press-4 behind the edge node "moulding-edge" (group "demo"),
 * the same press model as the others, reported by alias every interval. Its speed setpoint is
 * writable (DCMD): the press then runs at the new speed. src/demo/demo-plant.yaml binds it.
 */
export const demoSparkplugMachine = {
  path: "demo/plant-1/production/moulding/press-4",
  group: "demo",
  node: "moulding-edge",
  device: "press-4",
} as const;

const SETPOINT = "Setpoints/Speed";

export async function startSparkplugDemo(options: { mqttUrl: string; intervalMs?: number; log: Logger; random?: () => number }): Promise<Simulator> {
  const random = options.random ?? Math.random;
  const log = options.log.child({ component: "sparkplug-demo" });
  let profile: MachineProfile = machineProfiles.press;
  let state = initialMachineState(profile, random);
  const { group, node, device } = demoSparkplugMachine;
  const edge = new SparkplugEdgeNode({
    mqttUrl: options.mqttUrl,
    group,
    node,
    metrics: [],
    devices: {
      [device]: [
        { name: "Temperature", alias: 1, type: "Double", value: state.temperature },
        { name: "Vibration", alias: 2, type: "Double", value: state.vibration },
        { name: "Speed", alias: 3, type: "Double", value: state.speed },
        { name: "Parts", alias: 4, type: "Int64", value: state.parts },
        { name: SETPOINT, alias: 5, type: "Double", value: profile.nominalSpeed },
      ],
    },
    onWrite: (_device, metric, value) => {
      if (metric === SETPOINT && typeof value === "number") profile = { ...profile, nominalSpeed: value };
      log.info({ metric, value }, "sparkplug demo setpoint written");
      return value;
    },
  });
  await edge.start();
  log.info({ group, node, device }, "sparkplug demo edge node born");

  let lastTick = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    state = nextMachineState(state, profile, now - lastTick, random);
    lastTick = now;
    const { temperature, vibration, speed, parts } = state;
    edge.data(device, { Temperature: temperature, Vibration: vibration, Speed: speed, Parts: parts }).catch((error: unknown) => log.warn({ err: error }, "sparkplug demo data not sent"));
  }, options.intervalMs ?? 1000);

  return {
    async stop() {
      clearInterval(timer);
      await edge.stop();
    },
  };
}
