import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { opcuaCommandChannel } from "../src/actuation/opcua-command.channel.js";
import { simulatorNodeId, startOpcuaSimulator } from "../src/demo/opcua-simulator.js";
import { createLogger } from "../src/log/logger.js";
import { openClientPki, openConnection } from "../src/opcua/opcua.connection.js";
import { OpcuaOperations } from "../src/opcua/opcua.operations.js";
import { percentile, ratio } from "./support.js";

/**
 * A setpoint write over OPC UA as the actuator sends it: through the OPC UA command channel (the
 * node read for its before-value, the Write typed from the node's DataType, the read-back read),
 * against a bare typed Write of the same node on the same session (the baseline), in alternating
 * rounds against the in-process simulator. Reported: the median latency of each, and the p99 of
 * the channel. Tunables: BENCH_WRITES (per round), BENCH_ROUNDS.
 */

const WRITES = Number(process.env.BENCH_WRITES ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const MACHINE = "bench/site/area/line/press-1";
const ENDPOINT_ID = 1;
const log = createLogger(process.env.BENCH_LOG_LEVEL ?? "silent");

const pkiRoot = await mkdtemp(path.join(os.tmpdir(), "plantgraph-bench-actuation-"));
const simulator = await startOpcuaSimulator({ machines: [{ path: MACHINE, profile: "press" }], pkiDir: path.join(pkiRoot, "server"), log });
const pki = await openClientPki(path.join(pkiRoot, "hub"));
const connection = await openConnection({ name: "bench", url: simulator.endpointUrl, securityMode: "None", securityPolicy: "None", identity: { kind: "anonymous" } }, pki);
try {
  const operations = new OpcuaOperations((_endpointId, use) => use(connection));
  const channel = opcuaCommandChannel(operations, async () => ENDPOINT_ID);
  const nodeId = simulatorNodeId(MACHINE, "SpeedSetpoint");
  const target = { actuationId: 0, dataPointId: 0, dataType: "float" as const, opcua: { endpointId: ENDPOINT_ID, nodeId, browsePath: null } };
  const timed = async (write: (value: number) => Promise<unknown>, into: number[], round: number) => {
    for (let i = 0; i < WRITES; i++) {
      const value = 10 + ((round * WRITES + i) % 15);
      const started = performance.now();
      await write(value);
      into.push(performance.now() - started);
    }
  };
  const bare: number[] = [];
  const ours: number[] = [];
  // One unmeasured pass warms up both paths (node-opcua's DataType cache, the JIT).
  await timed((v) => operations.write(ENDPOINT_ID, nodeId, v), [], 0);
  await timed((v) => channel.write(target, v, { timeoutMs: 1_000, tolerance: 0 }), [], 0);
  for (let round = 0; round < ROUNDS; round++) {
    await timed((v) => operations.write(ENDPOINT_ID, nodeId, v), bare, round);
    await timed(async (v) => {
      const { readBack } = await channel.write(target, v, { timeoutMs: 1_000, tolerance: 0 });
      if (readBack !== v) throw new Error(`read back ${readBack}, wrote ${v}`);
    }, ours, round);
    console.error(`round ${round + 1}: bare write p50 ${ms(percentile(bare, 50))} ms; channel write p50 ${ms(percentile(ours, 50))} ms`);
  }
  const value = percentile(ours, 50);
  const baseline = percentile(bare, 50);
  console.log(
    JSON.stringify({
      bench: "opcua-actuation",
      value: ms(value),
      unit: "ms per setpoint write (p50: before read, write, read-back)",
      baseline: ms(baseline),
      baseline_name: "bare typed OPC UA Write of the same node, same session",
      ratio: ratio(value, baseline),
      p99_ms: ms(percentile(ours, 99)),
      baseline_p99_ms: ms(percentile(bare, 99)),
      writes: ours.length,
    }),
  );
} finally {
  await connection.close();
  await pki.dispose();
  await simulator.stop();
  await rm(pkiRoot, { recursive: true, force: true });
}

function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}
