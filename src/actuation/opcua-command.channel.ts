import { OpcuaOperationError, type OpcuaOperations } from "../opcua/opcua.operations.js";
import { CommandRefused, withinTolerance, type CommandChannel, type CommandTarget } from "./command-channel.js";

/** The id of the OPC UA endpoint of this name, or undefined. */
export type EndpointIdOf = (name: string) => Promise<number | undefined>;

const READ_BACK_EVERY_MS = 100;

/**
 * OPC UA: a setpoint is written to the variable the point is bound to, typed as the node's own
 * DataType, with the value read just before as its `before`; the read-back reads the node again
 * until it holds the value (within the tolerance) or the timeout ends, then reports what it
 * holds. A method is called on its endpoint (objectId, methodId) with its arguments by name, and
 * its output arguments are the result. A Bad status in the server's answer is CommandRefused.
 * Nothing waits unbounded: an endpoint it cannot reach fails after one connect attempt (at most
 * the 10 s transport timeout), and a request never answered after node-opcua's 15 s transaction timeout.
 */
export function opcuaCommandChannel(operations: OpcuaOperations, endpointIdOf: EndpointIdOf): CommandChannel {
  return {
    transport: "opcua",
    async write(target, value, { timeoutMs, tolerance }) {
      const { endpointId, nodeId } = await variableOf(operations, target);
      const read = async () => numberOf((await operations.read(endpointId, nodeId)).value);
      const before = await read();
      await answered(() => operations.write(endpointId, nodeId, target.dataType === "boolean" ? value === 1 : value));
      const deadline = Date.now() + timeoutMs;
      let readBack = await read();
      while ((readBack === undefined || !withinTolerance(readBack, value, tolerance)) && Date.now() + READ_BACK_EVERY_MS <= deadline) {
        await new Promise((resolve) => setTimeout(resolve, READ_BACK_EVERY_MS));
        readBack = await read();
      }
      return { readBack, ...(before === undefined ? {} : { before }) };
    },
    async call(target, args) {
      const { endpoint, objectId, methodId } = target.address;
      if (!endpoint || !objectId || !methodId) throw new Error("the method has no OPC UA address");
      const endpointId = await endpointIdOf(endpoint);
      if (endpointId === undefined) throw new Error(`no OPC UA endpoint "${endpoint}"`);
      const result = await answered(() => operations.call(endpointId, objectId, methodId, args));
      return { confirmed: true, result };
    },
  };
}

async function variableOf(operations: OpcuaOperations, target: CommandTarget): Promise<{ endpointId: number; nodeId: string }> {
  const binding = target.opcua;
  if (!binding) throw new Error("the point has no OPC UA binding");
  const nodeId = binding.nodeId ?? (await operations.translate(binding.endpointId, binding.browsePath!));
  return { endpointId: binding.endpointId, nodeId };
}

/** The server's refusal is an answer: the command arrived and failed. Anything else means it was not sent. */
async function answered<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof OpcuaOperationError && error.kind === "rejected") throw new CommandRefused(`the server answered ${error.message}`);
    throw error;
  }
}

/** A node's value as a number: booleans as 1 and 0, 64-bit integers from node-opcua's [high, low]. */
function numberOf(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (Array.isArray(value) && value.length === 2) {
    const [high, low] = value as unknown[];
    if (typeof high === "number" && typeof low === "number") return high * 2 ** 32 + low;
  }
  return undefined;
}
