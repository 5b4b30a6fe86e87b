import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  demoSimulatedMachines,
  initialMachineState,
  machineProfiles,
  nextMachineState,
  simulatedMetrics,
  type MachineProfile,
  type MachineState,
} from "../../src/demo/simulator.js";
import { isDemoOpcuaMachine } from "../../src/demo/opcua-demo.js";
import { demoSparkplugMachine } from "../../src/demo/sparkplug-demo.js";
import { simulatorNodeId, type SimulatorVariable } from "../../src/demo/opcua-simulator.js";

/** mulberry32: a tiny seeded PRNG so runs are reproducible. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function simulate(profile: MachineProfile, seed: number, ticks: number, dtMs = 1000): MachineState[] {
  const random = seededRandom(seed);
  const states = [initialMachineState(profile, random)];
  for (let i = 0; i < ticks; i++) states.push(nextMachineState(states.at(-1)!, profile, dtMs, random));
  return states;
}

const TICKS = 10_000;

describe("nextMachineState", () => {
  it("is deterministic for a given seed and differs between seeds", () => {
    const a = simulate(machineProfiles.filler, 42, 500);
    const b = simulate(machineProfiles.filler, 42, 500);
    const c = simulate(machineProfiles.filler, 43, 500);
    expect(b).toEqual(a);
    expect(c.map((s) => s.temperature)).not.toEqual(a.map((s) => s.temperature));
  });

  it("does not modify the state it is given", () => {
    const random = seededRandom(1);
    const state = initialMachineState(machineProfiles.press, random);
    const copy = structuredClone(state);
    nextMachineState(state, machineProfiles.press, 60_000, random);
    expect(state).toEqual(copy);
  });

  for (const [name, profile] of Object.entries(machineProfiles)) {
    describe(`${name} over ${TICKS} one-second ticks`, () => {
      const states = simulate(profile, 7, TICKS);
      const pairs = states.slice(1).map((state, i) => [states[i]!, state] as const);

      it("counts parts as a monotonically increasing integer", () => {
        expect(states.filter((s) => !Number.isInteger(s.parts))).toEqual([]);
        expect(pairs.filter(([before, after]) => after.parts < before.parts)).toEqual([]);
        expect(states.at(-1)!.parts).toBeGreaterThan(states[0]!.parts);
      });

      it("stops now and then, with speed 0 and frozen parts while stopped", () => {
        const stopped = states.filter((s) => !s.running);
        expect(stopped.length).toBeGreaterThan(0);
        expect(stopped.length).toBeLessThan(states.length / 2);
        expect(stopped.filter((s) => s.speed !== 0)).toEqual([]);
        const producedWhileStopped = pairs.filter(([before, after]) => !before.running && !after.running && after.parts !== before.parts);
        expect(producedWhileStopped).toEqual([]);
      });

      it("produces parts in proportion to speed and elapsed time", () => {
        const produced = states.at(-1)!.parts - states[0]!.parts;
        const expected = states.slice(1).reduce((sum, s) => sum + s.speed / 60, 0);
        expect(Math.abs(produced - expected)).toBeLessThan(1 + expected * 0.001);
      });

      it("keeps readings within plausible physical bounds", () => {
        const range = (values: number[]) => ({ min: Math.min(...values), max: Math.max(...values) });
        const temperature = range(states.map((s) => s.temperature));
        const vibration = range(states.map((s) => s.vibration));
        const speed = range(states.map((s) => s.speed));
        expect(temperature.min).toBeGreaterThan(10);
        expect(temperature.max).toBeLessThan(profile.nominalTemperature + profile.wearHeating + 15);
        expect(vibration.min).toBeGreaterThanOrEqual(0);
        expect(vibration.max).toBeLessThan(profile.nominalVibration + profile.wearVibration + 3);
        expect(speed.min).toBe(0);
        expect(speed.max).toBeLessThan(profile.nominalSpeed * 1.2);
      });

      it("runs near nominal speed and temperature most of the time", () => {
        const running = states.filter((s) => s.running);
        const meanSpeed = running.reduce((sum, s) => sum + s.speed, 0) / running.length;
        expect(meanSpeed).toBeCloseTo(profile.nominalSpeed, -1);
        const nearNominal = running.filter((s) => Math.abs(s.temperature - profile.nominalTemperature) < 25);
        expect(nearNominal.length / running.length).toBeGreaterThan(0.7);
      });
    });
  }

  it("cools a stopped machine towards ambient and heats it back when it runs", () => {
    const profile: MachineProfile = { ...machineProfiles.sealer, meanRunMs: 1e12, meanStopMs: 1e12 };
    const random = seededRandom(3);
    let state: MachineState = { ...initialMachineState(profile, random), running: false };
    for (let i = 0; i < 60; i++) state = nextMachineState(state, profile, 60_000, random);
    expect(state.temperature).toBeLessThan(30);
    expect(state.vibration).toBeLessThan(0.5);

    state = { ...state, running: true };
    for (let i = 0; i < 60; i++) state = nextMachineState(state, profile, 60_000, random);
    expect(state.temperature).toBeGreaterThan(profile.nominalTemperature - 10);
  });

  it("lets a worn bearing raise vibration and temperature over hours", () => {
    const profile: MachineProfile = { ...machineProfiles.filler, meanRunMs: 1e12 };
    const states = simulate(profile, 11, 12 * 60, 60_000); // twelve hours in minutes
    const worn = states.filter((s) => s.wear === 1);
    expect(worn.length).toBeGreaterThan(0);
    const meanVibration = worn.reduce((sum, s) => sum + s.vibration, 0) / worn.length;
    expect(meanVibration).toBeGreaterThan(profile.nominalVibration + profile.wearVibration * 0.8);
  });
});

describe("demo plant", () => {
  interface PlantFile {
    enterprise: string;
    sites: {
      name: string;
      areas: {
        name: string;
        lines: {
          name: string;
          machines: { name: string; dataPoints: { name: string; unit: string; dataType: string; mqtt?: { topic: string; field: string }; opcua?: { endpoint: string; nodeId: string }; actuation?: unknown }[] }[];
        }[];
      }[];
    }[];
  }
  const plant = parse(readFileSync(new URL("../../src/demo/demo-plant.yaml", import.meta.url), "utf8")) as PlantFile;
  const machines = plant.sites.flatMap((site) =>
    site.areas.flatMap((area) =>
      area.lines.flatMap((line) =>
        line.machines.map((machine) => ({
          path: [plant.enterprise, site.name, area.name, line.name, machine.name].join("/"),
          dataPoints: machine.dataPoints,
        })),
      ),
    ),
  );

  it("declares exactly the machines the simulator and the Sparkplug demo feed", () => {
    expect(machines.map((m) => m.path).sort()).toEqual([...demoSimulatedMachines().map((m) => m.path), demoSparkplugMachine.path].sort());
  });

  const mqttMachines = machines.filter((m) => !isDemoOpcuaMachine(m) && m.path !== demoSparkplugMachine.path);
  const opcuaMachines = machines.filter((m) => isDemoOpcuaMachine(m));

  it("binds every simulated metric of the MQTT machines to its telemetry topic with a matching unit and type", () => {
    expect(mqttMachines.length).toBeGreaterThan(0);
    for (const machine of mqttMachines) {
      const declared = machine.dataPoints.map((p) => ({ name: p.name, unit: p.unit, dataType: p.dataType, ...p.mqtt }));
      const expected = simulatedMetrics.map((m) => ({ ...m, topic: `${machine.path}/telemetry`, field: m.name }));
      expect(declared).toEqual(expected);
    }
  });

  it("binds every simulated metric of the OPC UA machines to its simulator node, and a writable setpoint to its SpeedSetpoint", () => {
    const variable: Record<string, SimulatorVariable> = { temperature: "Temperature", vibration: "Vibration", speed: "Speed", parts: "PartCounter" };
    expect(opcuaMachines.length).toBeGreaterThan(0);
    const setpoints = opcuaMachines.flatMap((m) => m.dataPoints.filter((p) => p.actuation !== undefined).map((p) => ({ machine: m.path, ...p.opcua })));
    expect(setpoints).toEqual([{ machine: opcuaMachines[0]!.path, endpoint: "demo-presses", nodeId: simulatorNodeId(opcuaMachines[0]!.path, "SpeedSetpoint") }]);
    for (const machine of opcuaMachines) {
      const declared = machine.dataPoints.filter((p) => p.actuation === undefined).map((p) => ({ name: p.name, unit: p.unit, dataType: p.dataType, ...p.opcua }));
      const expected = simulatedMetrics.map((m) => ({ ...m, endpoint: "demo-presses", nodeId: simulatorNodeId(machine.path, variable[m.name]!) }));
      expect(declared).toEqual(expected);
    }
  });
});
