import type { DataType as UaDataType, NodeId, StatusCode, Variant } from "node-opcua";
import type { OpcuaConnection } from "./opcua.connection.js";
import { qualityOfStatus } from "./opcua.normalizer.js";
import type { Quality } from "../telemetry/sample.js";

export class OpcuaOperationError extends Error {
  constructor(
    /** not_found: no such endpoint or node; unavailable: cannot connect; rejected: the server refused; bad_input: the value does not fit. */
    readonly kind: "not_found" | "unavailable" | "rejected" | "bad_input",
    message: string,
  ) {
    super(message);
    this.name = "OpcuaOperationError";
  }
}

export type WithSession = <T>(endpointId: number, use: (connection: OpcuaConnection) => Promise<T>) => Promise<T>;

/** What a node holds, as `read` reports it. */
export interface NodeValue {
  value: unknown;
  /** The StatusCode's name, e.g. Good or BadNodeIdUnknown. */
  status: string;
  quality: Quality;
  sourceTimestamp: Date | null;
  serverTimestamp: Date | null;
}

/** One reference found by `browse`; `nodeId` carries the namespace URI. */
export interface BrowsedNode {
  nodeId: string;
  browseName: string;
  displayName: string;
  nodeClass: string;
  /** The built-in type of a variable's value (Double, Int32 ...); null for other nodes. */
  dataType: string | null;
}

const MAX_BROWSED = 5_000;

/**
 * Reads, writes, method calls and browsing on an endpoint's session, for GraphQL (browse) and for
 * other modules (guarded actuation). Values are typed from the server's own DataType and argument
 * definitions, so callers pass plain JSON values. Failures are OpcuaOperationError with a kind.
 */
export class OpcuaOperations {
  constructor(private readonly withSession: WithSession) {}

  /** The node's current value. */
  read(endpointId: number, nodeId: string): Promise<NodeValue> {
    return this.withSession(endpointId, async (connection) => {
      const node = resolve(connection, nodeId);
      const dataValue = await connection.session.read({ nodeId: node, attributeId: connection.ua.AttributeIds.Value });
      if (isNodeMissing(dataValue.statusCode)) throw new OpcuaOperationError("not_found", `${nodeId}: ${describeStatus(dataValue.statusCode)}`);
      return {
        value: dataValue.value.value as unknown,
        status: dataValue.statusCode.name,
        quality: qualityOfStatus(dataValue.statusCode.value),
        sourceTimestamp: dataValue.sourceTimestamp ?? null,
        serverTimestamp: dataValue.serverTimestamp ?? null,
      };
    });
  }

  /** Writes `value` as the node's own DataType; a value that does not fit is refused before it is sent. */
  write(endpointId: number, nodeId: string, value: unknown): Promise<void> {
    return this.withSession(endpointId, async (connection) => {
      const { ua, session } = connection;
      const node = resolve(connection, nodeId);
      let dataType: UaDataType;
      try {
        dataType = await session.getBuiltInDataType(node);
      } catch (error) {
        throw new OpcuaOperationError("not_found", `${nodeId}: cannot read its DataType (${(error as Error).message})`);
      }
      const variant = toVariant(connection, dataType, value, nodeId);
      const status = await session.write({ nodeId: node, attributeId: ua.AttributeIds.Value, value: { value: variant } });
      if (!status.isGood()) throw new OpcuaOperationError(isNodeMissing(status) ? "not_found" : "rejected", `writing ${nodeId}: ${describeStatus(status)}`);
    });
  }

  /** The NodeId (with its namespace URI) a browse path from the Objects folder leads to. */
  translate(endpointId: number, browsePath: string): Promise<string> {
    return this.withSession(endpointId, async ({ ua, session, namespaceArray }) => {
      let path;
      try {
        path = ua.makeBrowsePath("ObjectsFolder", browsePath);
      } catch (error) {
        throw new OpcuaOperationError("bad_input", `browse path ${browsePath}: ${(error as Error).message}`);
      }
      const [result] = await session.translateBrowsePath([path]);
      const target = result?.targets?.[0]?.targetId;
      if (!result?.statusCode.isGood() || !target) throw new OpcuaOperationError("not_found", `browse path ${browsePath}: ${result ? describeStatus(result.statusCode) : "no result"}`);
      return ua.resolveNodeId(target.toString()).toString({ namespaceArray });
    });
  }

  /**
   * Calls a method with arguments typed from its InputArguments, given in order or by name; returns
   * its output values by name. A bad status in the server's answer is `rejected`: the call arrived.
   */
  call(endpointId: number, objectId: string, methodId: string, args: readonly unknown[] | Readonly<Record<string, unknown>>): Promise<Record<string, unknown>> {
    return this.withSession(endpointId, async (connection) => {
      const { session } = connection;
      const method = resolve(connection, methodId);
      let definition;
      try {
        definition = await session.getArgumentDefinition(method);
      } catch (error) {
        throw new OpcuaOperationError("not_found", `${methodId}: cannot read its arguments (${(error as Error).message})`);
      }
      const expected = definition.inputArguments;
      const values = Array.isArray(args) ? args : inOrder(expected.map((a) => a.name ?? ""), args as Readonly<Record<string, unknown>>, methodId);
      if (values.length !== expected.length) throw new OpcuaOperationError("bad_input", `${methodId} takes ${expected.length} argument(s), got ${values.length}`);
      const inputArguments = expected.map((argument, i) => toVariant(connection, builtInOf(connection, argument.dataType), values[i], `${methodId} argument ${argument.name ?? i}`));
      const result = await session.call({ objectId: resolve(connection, objectId), methodId: method, inputArguments });
      if (!result.statusCode.isGood()) throw new OpcuaOperationError("rejected", `calling ${methodId}: ${describeStatus(result.statusCode)}`);
      const outputs = (result.outputArguments ?? []).map((v: Variant) => v.value as unknown);
      return Object.fromEntries(outputs.map((value, i) => [definition.outputArguments[i]?.name ?? String(i), value]));
    });
  }

  /** The nodes below `nodeId` (default: the Objects folder), to find what to bind. */
  browse(endpointId: number, nodeId?: string): Promise<BrowsedNode[]> {
    return this.withSession(endpointId, async (connection) => {
      const { ua, session, namespaceArray } = connection;
      const node = nodeId ? resolve(connection, nodeId) : ua.resolveNodeId(ua.ObjectIds.ObjectsFolder);
      let result = await session.browse({
        nodeId: node,
        referenceTypeId: ua.resolveNodeId(ua.ReferenceTypeIds.HierarchicalReferences),
        includeSubtypes: true,
        browseDirection: ua.BrowseDirection.Forward,
        resultMask: 0x3f,
      });
      if (isNodeMissing(result.statusCode)) throw new OpcuaOperationError("not_found", `${nodeId}: ${describeStatus(result.statusCode)}`);
      const references = [...(result.references ?? [])];
      while (result.continuationPoint && references.length < MAX_BROWSED) {
        result = await session.browseNext(result.continuationPoint, false);
        references.push(...(result.references ?? []));
      }
      const found = references.slice(0, MAX_BROWSED);
      const variables = found.filter((r) => r.nodeClass === ua.NodeClass.Variable);
      const dataTypes = await Promise.all(variables.map((r) => session.getBuiltInDataType(ua.resolveNodeId(r.nodeId.toString())).catch(() => undefined)));
      const typeOf = new Map(variables.map((r, i) => [r, dataTypes[i]]));
      return found.map((r) => {
        const dataType = typeOf.get(r);
        return {
          nodeId: ua.resolveNodeId(r.nodeId.toString()).toString({ namespaceArray }),
          browseName: r.browseName.toString(),
          displayName: r.displayName.text ?? r.browseName.name ?? "",
          nodeClass: ua.NodeClass[r.nodeClass] ?? String(r.nodeClass),
          dataType: dataType === undefined ? null : ua.DataType[dataType],
        };
      });
    });
  }
}

function resolve({ ua, namespaceArray }: OpcuaConnection, nodeId: string): NodeId {
  try {
    return ua.resolveNodeId(nodeId, { namespaceArray });
  } catch (error) {
    throw new OpcuaOperationError("bad_input", `cannot use NodeId ${nodeId} on this server: ${(error as Error).message}`);
  }
}

/** Named arguments in the order the method declares them; a name it does not declare is refused. */
function inOrder(names: readonly string[], args: Readonly<Record<string, unknown>>, methodId: string): unknown[] {
  const unknown = Object.keys(args).filter((key) => !names.includes(key));
  if (unknown.length > 0) throw new OpcuaOperationError("bad_input", `${methodId} has no argument ${unknown.map((k) => `"${k}"`).join(", ")}; it takes ${names.length ? names.join(", ") : "none"}`);
  const missing = names.filter((name) => !(name in args));
  if (missing.length > 0) throw new OpcuaOperationError("bad_input", `${methodId} needs argument ${missing.map((k) => `"${k}"`).join(", ")}`);
  return names.map((name) => args[name]);
}

function isNodeMissing(status: StatusCode): boolean {
  return ["BadNodeIdUnknown", "BadNodeIdInvalid", "BadMethodInvalid"].includes(status.name);
}

function describeStatus(status: StatusCode): string {
  return `${status.name} (${status.description})`;
}

/** A standard DataType NodeId (ns=0;i=1..25) names its built-in type by the same number. */
function builtInOf({ ua }: OpcuaConnection, dataTypeId: NodeId): UaDataType {
  const id = Number(dataTypeId.value);
  return dataTypeId.namespace === 0 && ua.DataType[id] !== undefined ? (id as UaDataType) : ua.DataType.Variant;
}

const INTEGER_RANGES: Partial<Record<string, [number, number]>> = {
  SByte: [-128, 127],
  Byte: [0, 255],
  Int16: [-32_768, 32_767],
  UInt16: [0, 65_535],
  Int32: [-2_147_483_648, 2_147_483_647],
  UInt32: [0, 4_294_967_295],
};

function toVariant({ ua }: OpcuaConnection, dataType: UaDataType, value: unknown, what: string): Variant {
  const name = ua.DataType[dataType] ?? String(dataType);
  const refuse = (expected: string) => new OpcuaOperationError("bad_input", `${what} is ${name}: expected ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  const range = INTEGER_RANGES[name];
  if (range) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < range[0] || value > range[1]) throw refuse(`a whole number from ${range[0]} to ${range[1]}`);
  } else if (name === "Float" || name === "Double") {
    if (typeof value !== "number" || !Number.isFinite(value)) throw refuse("a number");
  } else if (name === "Boolean") {
    if (typeof value !== "boolean") throw refuse("true or false");
  } else if (name === "String") {
    if (typeof value !== "string") throw refuse("a string");
  } else if (name === "Int64" || name === "UInt64") {
    if (typeof value !== "number" || !Number.isSafeInteger(value)) throw refuse("a whole number");
    return new ua.Variant({ dataType, value: [Math.floor(value / 2 ** 32), value >>> 0] });
  } else {
    throw new OpcuaOperationError("bad_input", `${what} is ${name}: values of that type cannot be written here`);
  }
  return new ua.Variant({ dataType, value });
}
