import { randomUUID } from "node:crypto";
import mqtt from "mqtt";
import type { DataType } from "../../schema/db/assets.js";
import type { Logger } from "../log/logger.js";

/** What each telemetry message carries besides `ts`; the demo plant declares matching data points. */
export const simulatedMetrics = [
  { name: "temperature", unit: "°C", dataType: "float" },
  { name: "vibration", unit: "mm/s", dataType: "float" },
  { name: "speed", unit: "parts/min", dataType: "float" },
  { name: "parts", unit: "parts", dataType: "integer" },
] as const satisfies readonly { name: string; unit: string; dataType: DataType }[];

export interface MachineProfile {
  nominalTemperature: number;
  temperatureNoise: number;
  /** Heating (°C) a fully worn bearing adds on top of the nominal temperature. */
  wearHeating: number;
  /** Time constant of heating up and cooling down. */
  thermalTimeConstantMs: number;
  nominalVibration: number;
  vibrationNoise: number;
  /** Vibration (mm/s) a fully worn bearing adds. */
  wearVibration: number;
  /** Parts per minute. */
  nominalSpeed: number;
  speedNoise: number;
  meanRunMs: number;
  meanStopMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const AMBIENT_TEMPERATURE = 22;
/** Slow wandering of the running temperature (room, product, load), independent of wear. */
const DRIFT_SPREAD = 1.5;
const DRIFT_TIME_CONSTANT_MS = 30 * MINUTE;
const MEAN_TIME_TO_WEAR_ONSET_MS = 1 * HOUR;
const WEAR_RAMP_MS = 40 * MINUTE;
/** Share of stops used to fix a worn bearing. */
const REPAIR_PROBABILITY = 0.5;

export const machineProfiles = {
  filler: {
    nominalTemperature: 58, temperatureNoise: 0.4, wearHeating: 22, thermalTimeConstantMs: 8 * MINUTE,
    nominalVibration: 1.8, vibrationNoise: 0.15, wearVibration: 5.5,
    nominalSpeed: 120, speedNoise: 1.5, meanRunMs: 12 * MINUTE, meanStopMs: 3 * MINUTE,
  },
  sealer: {
    nominalTemperature: 135, temperatureNoise: 0.8, wearHeating: 15, thermalTimeConstantMs: 5 * MINUTE,
    nominalVibration: 1.2, vibrationNoise: 0.1, wearVibration: 4,
    nominalSpeed: 110, speedNoise: 1.2, meanRunMs: 15 * MINUTE, meanStopMs: 2 * MINUTE,
  },
  labeler: {
    nominalTemperature: 38, temperatureNoise: 0.3, wearHeating: 12, thermalTimeConstantMs: 10 * MINUTE,
    nominalVibration: 1.0, vibrationNoise: 0.1, wearVibration: 4,
    nominalSpeed: 150, speedNoise: 2, meanRunMs: 10 * MINUTE, meanStopMs: 2 * MINUTE,
  },
  press: {
    nominalTemperature: 48, temperatureNoise: 0.5, wearHeating: 18, thermalTimeConstantMs: 15 * MINUTE,
    nominalVibration: 3.2, vibrationNoise: 0.3, wearVibration: 5,
    nominalSpeed: 24, speedNoise: 0.4, meanRunMs: 20 * MINUTE, meanStopMs: 4 * MINUTE,
  },
} as const satisfies Record<string, MachineProfile>;

export type ProfileName = keyof typeof machineProfiles;

export interface SimulatedMachine {
  /** enterprise/site/area/line/machine */
  path: string;
  profile: ProfileName;
}

export interface MachineState {
  running: boolean;
  /** Published readings. */
  temperature: number;
  vibration: number;
  speed: number;
  parts: number;
  /** Hidden model state. */
  coreTemperature: number;
  temperatureDrift: number;
  /** 0..1: a degrading bearing heats the machine and makes it vibrate more. */
  wear: number;
  wearing: boolean;
  /** Fraction of a part made but not yet counted, so `parts` stays an integer without losing production. */
  partsCarry: number;
}

export function initialMachineState(profile: MachineProfile, random: () => number): MachineState {
  return {
    running: true,
    temperature: profile.nominalTemperature,
    vibration: profile.nominalVibration,
    speed: profile.nominalSpeed,
    parts: Math.floor(random() * 100_000),
    coreTemperature: profile.nominalTemperature,
    temperatureDrift: 0,
    wear: 0,
    wearing: false,
    partsCarry: 0,
  };
}

/** Advances one machine by dtMs. Pure: all randomness comes from `random`. */
export function nextMachineState(
  state: MachineState,
  profile: MachineProfile,
  dtMs: number,
  random: () => number,
): MachineState {
  const chance = (meanMs: number): boolean => random() < 1 - Math.exp(-dtMs / meanMs);

  let { running, wear, wearing } = state;
  if (running && chance(profile.meanRunMs)) {
    running = false;
    if (wearing && random() < REPAIR_PROBABILITY) {
      wear = 0;
      wearing = false;
    }
  } else if (!running && chance(profile.meanStopMs)) {
    running = true;
  }

  if (running) {
    if (!wearing && chance(MEAN_TIME_TO_WEAR_ONSET_MS)) wearing = true;
    if (wearing) wear = Math.min(1, wear + dtMs / WEAR_RAMP_MS);
  }

  // Ornstein-Uhlenbeck step: wanders but stays around zero whatever dtMs is.
  const driftDecay = Math.exp(-dtMs / DRIFT_TIME_CONSTANT_MS);
  const temperatureDrift =
    state.temperatureDrift * driftDecay + DRIFT_SPREAD * Math.sqrt(1 - driftDecay ** 2) * gaussian(random);

  const targetTemperature = running
    ? profile.nominalTemperature + temperatureDrift + wear * profile.wearHeating
    : AMBIENT_TEMPERATURE;
  const approach = 1 - Math.exp(-dtMs / profile.thermalTimeConstantMs);
  const coreTemperature = state.coreTemperature + (targetTemperature - state.coreTemperature) * approach;

  const speed = running ? Math.max(0, profile.nominalSpeed + profile.speedNoise * gaussian(random)) : 0;
  const vibration = running
    ? Math.max(0, profile.nominalVibration + wear * profile.wearVibration + profile.vibrationNoise * gaussian(random))
    : Math.abs(0.05 * gaussian(random));

  const made = state.partsCarry + (speed * dtMs) / MINUTE;
  const newParts = Math.floor(made);

  return {
    running,
    temperature: round(coreTemperature + profile.temperatureNoise * gaussian(random), 1),
    vibration: round(vibration, 2),
    speed: round(speed, 1),
    parts: state.parts + newParts,
    coreTemperature,
    temperatureDrift,
    wear,
    wearing,
    partsCarry: made - newParts,
  };
}

/** Standard normal sample (Box-Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(0) would be -Infinity
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** The six machines of src/demo/demo-plant.yaml. */
export function demoSimulatedMachines(): SimulatedMachine[] {
  const packaging = "demo/plant-1/production/packaging";
  const moulding = "demo/plant-1/production/moulding";
  return [
    { path: `${packaging}/filler-1`, profile: "filler" },
    { path: `${packaging}/sealer-1`, profile: "sealer" },
    { path: `${packaging}/labeler-1`, profile: "labeler" },
    { path: `${moulding}/press-1`, profile: "press" },
    { path: `${moulding}/press-2`, profile: "press" },
    { path: `${moulding}/press-3`, profile: "press" },
  ];
}

export interface SimulatorOptions {
  mqttUrl: string;
  machines: SimulatedMachine[];
  intervalMs?: number;
  log: Logger;
  random?: () => number;
  clientId?: string;
}

export interface Simulator {
  stop(): Promise<void>;
}

/** Publishes each machine's telemetry to `<path>/telemetry` (QoS 1) every interval, like a plant's edge gateway. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const { mqttUrl, machines, intervalMs = 1000 } = options;
  const random = options.random ?? Math.random;
  const log = options.log.child({ component: "simulator" });

  const client = mqtt.connect(mqttUrl, {
    clientId: options.clientId ?? `plantgraph-simulator-${randomUUID().slice(0, 8)}`,
    reconnectPeriod: 1000,
  });
  client.on("connect", () => log.info({ mqttUrl, machines: machines.length }, "simulator connected"));
  client.on("offline", () => log.warn({ mqttUrl }, "simulator offline, reconnecting"));
  client.on("error", (error) => log.debug({ err: error }, "simulator connection error"));

  const simulated = machines.map((machine) => {
    const profile = machineProfiles[machine.profile];
    return { topic: `${machine.path}/telemetry`, profile, state: initialMachineState(profile, random) };
  });

  let lastTick = Date.now();
  const tick = (): void => {
    try {
      const now = Date.now();
      const dtMs = now - lastTick;
      lastTick = now;
      const ts = new Date(now).toISOString();
      for (const machine of simulated) {
        machine.state = nextMachineState(machine.state, machine.profile, dtMs, random);
        // Offline readings are dropped rather than queued, so a long broker outage cannot grow memory.
        if (!client.connected) continue;
        const { temperature, vibration, speed, parts } = machine.state;
        const payload = JSON.stringify({ ts, temperature, vibration, speed, parts });
        client.publish(machine.topic, payload, { qos: 1 }, (error) => {
          if (error) log.warn({ err: error, topic: machine.topic }, "telemetry publish failed");
        });
      }
    } catch (error) {
      log.error({ err: error }, "simulator tick failed");
    }
  };
  const timer = setInterval(tick, intervalMs);

  return {
    async stop() {
      clearInterval(timer);
      // Waiting for in-flight acknowledgements only makes sense while the broker is there to send them.
      await client.endAsync(!client.connected);
    },
  };
}
