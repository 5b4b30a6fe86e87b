import type { ISessionContext, Namespace, UAObject, Variant, VariantLike } from "node-opcua";
import type { Logger } from "../log/logger.js";
import { loadNodeOpcua } from "../opcua/node-opcua.js";
import { initialMachineState, machineProfiles, nextMachineState, type MachineState, type SimulatedMachine } from "./simulator.js";

/** The simulator's namespace: bind its nodes as `nsu=<this>;s=<machine path>/<Variable>`. */
export const SIMULATOR_NAMESPACE = "urn:plantgraph:opcua-simulator";

/** What the simulator advertises as MaxMonitoredItemsPerSubscription, like a PLC with a limit of its own. */
export const SIMULATOR_MAX_ITEMS_PER_SUBSCRIPTION = 2_000;

/** OPC 40001-1 MachineryItemState, as the simulator's `State` variable reports it. */
export const machineryItemStates = { NotAvailable: 0, OutOfService: 1, NotExecuting: 2, Executing: 3 } as const;

/** The variables of each simulated machine, with the OPC UA DataType each one has. */
export const simulatorVariables = ["State", "Temperature", "Vibration", "Speed", "PartCounter", "SpeedSetpoint"] as const;
export type SimulatorVariable = (typeof simulatorVariables)[number];

export const simulatorNodeId = (machinePath: string, variable: SimulatorVariable | "ResetCounter") => `nsu=${SIMULATOR_NAMESPACE};s=${machinePath}/${variable}`;
export const simulatorMachineNodeId = (machinePath: string) => `nsu=${SIMULATOR_NAMESPACE};s=${machinePath}`;
export const loadVariableNodeId = (index: number | string) => `nsu=${SIMULATOR_NAMESPACE};s=load/${index}`;

export interface OpcuaSimulatorOptions {
  machines: readonly SimulatedMachine[];
  /** 0: any free port. */
  port?: number;
  /** Its own PKI folder (trap 6 of STACK.md: the default writes under ~/.config). */
  pkiDir: string;
  /** Accepted user names and passwords; none: anonymous only. */
  users?: Readonly<Record<string, string>>;
  allowAnonymous?: boolean;
  /** Extra Double variables under Objects/Load, every one changing at every tick (tests and benchmarks). */
  loadVariables?: number;
  intervalMs?: number;
  /** The drives' top speed: a SpeedSetpoint above it is accepted and held at it, as a drive limits itself. */
  speedSetpointCeiling?: number;
  random?: () => number;
  log: Logger;
}

export interface OpcuaSimulator {
  readonly endpointUrl: string;
  readonly port: number;
  /** DER of the server's application certificate: what a client must trust. */
  certificate(): Buffer;
  /** The current state of a machine, for tests. */
  machine(path: string): { parts: number; speedSetpoint: number } | undefined;
  stop(): Promise<void>;
}

interface SimulatedNode {
  path: string;
  profile: (typeof machineProfiles)[keyof typeof machineProfiles];
  state: MachineState;
  speedSetpoint: number;
}

/**
 * A node-opcua server playing the plant's machines: per machine an object with a Machinery-style
 * `State`, `Temperature`, `Vibration`, `Speed`, `PartCounter`, a writable `SpeedSetpoint` and a `ResetCounter`
 * method (its output: the count it reset). The values follow the same model as the MQTT simulator.
 */
export async function startOpcuaSimulator(options: OpcuaSimulatorOptions): Promise<OpcuaSimulator> {
  const log = options.log.child({ component: "opcua-simulator" });
  const ua = await loadNodeOpcua(log);
  const random = options.random ?? Math.random;
  const intervalMs = options.intervalMs ?? 1000;
  const users = options.users ?? {};

  const serverCertificateManager = new ua.OPCUACertificateManager({ rootFolder: options.pkiDir, automaticallyAcceptUnknownCertificate: true });
  await serverCertificateManager.initialize();
  const server = new ua.OPCUAServer({
    port: options.port ?? 0,
    hostname: "127.0.0.1",
    serverCertificateManager,
    securityModes: [ua.MessageSecurityMode.None, ua.MessageSecurityMode.Sign, ua.MessageSecurityMode.SignAndEncrypt],
    securityPolicies: [ua.SecurityPolicy.None, ua.SecurityPolicy.Basic256Sha256, ua.SecurityPolicy.Aes128_Sha256_RsaOaep, ua.SecurityPolicy.Aes256_Sha256_RsaPss],
    allowAnonymous: options.allowAnonymous ?? Object.keys(users).length === 0,
    userManager: { isValidUser: (username: string, password: string) => users[username] !== undefined && users[username] === password },
    serverCapabilities: { maxMonitoredItemsPerSubscription: SIMULATOR_MAX_ITEMS_PER_SUBSCRIPTION, maxMonitoredItems: 100_000, maxSubscriptionsPerSession: 100 },
    buildInfo: { productName: "plantgraph OPC UA machine simulator", manufacturerName: "plantgraph" },
    disableDiscovery: true,
  });
  await server.initialize();

  const namespace = server.engine.addressSpace!.registerNamespace(SIMULATOR_NAMESPACE);
  const machines = options.machines.map((machine): SimulatedNode => {
    const profile = machineProfiles[machine.profile];
    return { path: machine.path, profile, state: initialMachineState(profile, random), speedSetpoint: profile.nominalSpeed };
  });
  const objects = server.engine.addressSpace!.rootFolder.objects;
  const machinesFolder = namespace.addFolder(objects, { browseName: "Machines" });
  for (const machine of machines) addMachine(ua, namespace, machinesFolder, machine, options.speedSetpointCeiling ?? Infinity);
  const load = new Float64Array(options.loadVariables ?? 0);
  if (load.length > 0) addLoad(ua, namespace, namespace.addFolder(objects, { browseName: "Load" }), load);

  let lastTick = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const machine of machines) machine.state = nextMachineState(machine.state, machine.profile, now - lastTick, random);
    for (let i = 0; i < load.length; i++) load[i] = load[i]! + 1;
    lastTick = now;
  }, intervalMs);

  await server.start();
  const endpointUrl = server.getEndpointUrl();
  log.info({ endpointUrl, machines: machines.length, loadVariables: load.length }, "opc ua simulator listening");
  return {
    endpointUrl,
    port: Number(new URL(endpointUrl).port),
    certificate: () => Buffer.from(server.getCertificateChain()[0]!),
    machine: (path) => {
      const found = machines.find((m) => m.path === path);
      return found && { parts: found.state.parts, speedSetpoint: found.speedSetpoint };
    },
    async stop() {
      clearInterval(timer);
      await server.shutdown(0);
      await serverCertificateManager.dispose();
    },
  };
}

type Ua = Awaited<ReturnType<typeof loadNodeOpcua>>;

/** Getters are sampled by the server at the monitored item's rate; the minimum keeps them cheap. */
const SAMPLING_MS = 100;

function addMachine(ua: Ua, namespace: Namespace, folder: UAObject, machine: SimulatedNode, speedCeiling: number): void {
  const nodeId = (name: string) => `s=${machine.path}/${name}`;
  const object = namespace.addObject({ organizedBy: folder, browseName: machine.path.split("/").at(-1)!, nodeId: `s=${machine.path}` });
  const getter = (name: SimulatorVariable, dataType: "Int32" | "Double" | "UInt32", read: () => number) =>
    namespace.addVariable({
      componentOf: object,
      browseName: name,
      nodeId: nodeId(name),
      dataType,
      minimumSamplingInterval: SAMPLING_MS,
      value: { get: () => new ua.Variant({ dataType: ua.DataType[dataType], value: read() }) },
    });
  getter("State", "Int32", () => (machine.state.running ? machineryItemStates.Executing : machineryItemStates.NotExecuting));
  getter("Temperature", "Double", () => machine.state.temperature);
  getter("Vibration", "Double", () => machine.state.vibration);
  getter("Speed", "Double", () => machine.state.speed);
  getter("PartCounter", "UInt32", () => machine.state.parts);
  namespace.addVariable({
    componentOf: object,
    browseName: "SpeedSetpoint",
    nodeId: nodeId("SpeedSetpoint"),
    dataType: "Double",
    minimumSamplingInterval: SAMPLING_MS,
    accessLevel: "CurrentRead | CurrentWrite",
    userAccessLevel: "CurrentRead | CurrentWrite",
    value: {
      get: () => new ua.Variant({ dataType: ua.DataType.Double, value: machine.speedSetpoint }),
      set: (variant: Variant) => {
        if (typeof variant.value !== "number" || !Number.isFinite(variant.value) || variant.value < 0) return ua.StatusCodes.BadOutOfRange;
        machine.speedSetpoint = Math.min(variant.value, speedCeiling);
        return ua.StatusCodes.Good;
      },
    },
  });
  const reset = namespace.addMethod(object, {
    browseName: "ResetCounter",
    nodeId: nodeId("ResetCounter"),
    inputArguments: [],
    outputArguments: [{ name: "PartsBefore", dataType: ua.DataType.UInt32, description: "The count it reset" }],
  });
  // node-opcua tells promise methods by their arity: (inputArguments, context).
  reset.bindMethod(async (_inputArguments: VariantLike[], _context: ISessionContext) => {
    const before = machine.state.parts;
    machine.state = { ...machine.state, parts: 0, partsCarry: 0 };
    return { statusCode: ua.StatusCodes.Good, outputArguments: [{ dataType: ua.DataType.UInt32, value: before }] };
  });
}

function addLoad(ua: Ua, namespace: Namespace, folder: UAObject, load: Float64Array): void {
  for (let i = 0; i < load.length; i++) {
    namespace.addVariable({
      organizedBy: folder,
      browseName: `Value${i}`,
      nodeId: `s=load/${i}`,
      dataType: "Double",
      minimumSamplingInterval: SAMPLING_MS,
      value: { get: () => new ua.Variant({ dataType: ua.DataType.Double, value: load[i]! }) },
    });
  }
}

