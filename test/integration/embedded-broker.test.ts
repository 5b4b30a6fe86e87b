import net from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { startEmbeddedBroker, type EmbeddedBroker } from "../../src/demo/embedded-broker.js";
import { demoSimulatedMachines, startSimulator, type Simulator } from "../../src/demo/simulator.js";
import { createLogger } from "../../src/log/logger.js";

const log = createLogger("silent");

interface Received {
  topic: string;
  qos: number;
  body: Record<string, unknown>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function broker(options: { port?: number } = { port: 0 }): Promise<EmbeddedBroker> {
  const started = await startEmbeddedBroker({ ...options, log });
  cleanups.push(() => started.close());
  return started;
}

async function simulator(mqttUrl: string): Promise<Simulator> {
  const started = await startSimulator({ mqttUrl, machines: demoSimulatedMachines(), intervalMs: 50, log });
  cleanups.push(() => started.stop());
  return started;
}

async function subscriber(url: string): Promise<{ client: MqttClient; received: Received[] }> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  cleanups.push(() => client.endAsync(true));
  const received: Received[] = [];
  client.on("message", (topic, payload, packet) => {
    received.push({ topic, qos: packet.qos, body: JSON.parse(payload.toString()) as Record<string, unknown> });
  });
  await client.subscribeAsync("demo/#", { qos: 1 });
  return { client, received };
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const telemetryTopics = demoSimulatedMachines().map((m) => `${m.path}/telemetry`);
const topicsSeen = (received: Received[]): Set<string> => new Set(received.map((r) => r.topic));

describe("embedded broker with the simulator", () => {
  it("delivers QoS 1 telemetry JSON for all six demo machines, and nothing after stop", async () => {
    const { url } = await broker();
    const { received } = await subscriber(url);
    const sim = await simulator(url);

    await waitFor(() => telemetryTopics.every((topic) => topicsSeen(received).has(topic)));

    expect([...topicsSeen(received)].sort()).toEqual([...telemetryTopics].sort());
    for (const { qos, body } of received) {
      expect(qos).toBe(1);
      expect(Object.keys(body).sort()).toEqual(["parts", "speed", "temperature", "ts", "vibration"]);
      expect(new Date(body.ts as string).toISOString()).toBe(body.ts);
      expect(typeof body.temperature).toBe("number");
      expect(typeof body.vibration).toBe("number");
      expect(typeof body.speed).toBe("number");
      expect(Number.isInteger(body.parts)).toBe(true);
    }

    await sim.stop();
    const countAfterStop = received.length;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(received.length).toBe(countAfterStop);
  });

  it("keeps publishing after the broker restarts on the same port", async () => {
    const first = await startEmbeddedBroker({ port: 0, log });
    const before = await subscriber(first.url);
    await simulator(first.url);
    await waitFor(() => before.received.length > 0);
    await first.close();

    const second = await broker({ port: first.port });
    const after = await subscriber(second.url);
    await waitFor(() => telemetryTopics.every((topic) => topicsSeen(after.received).has(topic)), 10_000);
  });
});

describe("startEmbeddedBroker", () => {
  it("uses exactly the port it is given and fails when that port is taken", async () => {
    const { port, url } = await broker();
    expect(port).toBeGreaterThan(0);
    expect(url).toBe(`mqtt://127.0.0.1:${port}`);
    await expect(startEmbeddedBroker({ port, log })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });

  it("takes 1883 when it is free and another free port otherwise", async () => {
    const wasFree = await isPortFree(1883);
    const { port } = await broker({});
    if (wasFree) expect(port).toBe(1883);
    else expect(port).not.toBe(1883);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    await client.endAsync();
  });

  it("closes promptly while a client has connected but not yet sent CONNECT", async () => {
    const { port, close } = await startEmbeddedBroker({ port: 0, log });
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    const socketClosed = new Promise((resolve) => socket.once("close", resolve));

    const started = Date.now();
    await close();
    await socketClosed;
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}
