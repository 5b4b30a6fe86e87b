import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { stopChild } from "./mosquitto.js";

/**
 * The hub as a real child process (`bin/plantgraph.js start`), for tests that must kill it hard,
 * plus a windowed QoS 1 publisher that counts the broker's PUBACKs.
 */

export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface HubProcess {
  readonly child: ChildProcess;
  /** Every JSON line the hub wrote to stdout so far. */
  readonly lines: LogLine[];
  /** The last lines of stdout and stderr, for failure messages. */
  tail(lines?: number): string;
  /**
   * Resolves with the first log line from index `fromLine` on whose `msg` is `msg`; rejects when
   * the process exits or `timeoutMs` passes first.
   */
  waitForLog(msg: string | RegExp, options?: { timeoutMs?: number; fromLine?: number }): Promise<LogLine>;
  /** Sends the signal and waits for the exit (SIGKILL after 5 s). No-op once exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

let hubCount = 0;

export function spawnHub(options: { roles: string; env: Record<string, string>; nodeArgs?: string[] }): HubProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "bin/plantgraph.js", "start", "--role", options.roles], {
    cwd: REPO_ROOT,
    // Each hub its own BullMQ prefix: hubs of parallel test files share the machine's Redis.
    env: { ...process.env, JOBS_PREFIX: `test-${process.pid}-${++hubCount}`, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());

  let partial = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    partial += chunk;
    let newline: number;
    while ((newline = partial.indexOf("\n")) >= 0) {
      const text = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      if (text.trim() === "") continue;
      raw.push(text);
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        lines.push({ msg: text });
      }
    }
    notify();
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => raw.push(`[stderr] ${chunk.trimEnd()}`));
  child.on("exit", notify);

  const tail = (count = 30) => raw.slice(-count).join("\n");

  return {
    child,
    lines,
    tail,
    waitForLog(msg, { timeoutMs = 30_000, fromLine = 0 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines
            .slice(fromLine)
            .find((line) => (typeof msg === "string" ? line.msg === msg : typeof line.msg === "string" && msg.test(line.msg)));
          if (found) return finish(() => resolve(found));
          if (child.exitCode !== null || child.signalCode !== null) {
            finish(() =>
              reject(new Error(`hub exited (${child.exitCode ?? child.signalCode}) before logging "${msg}":\n${tail()}`)),
            );
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`hub did not log "${msg}" within ${timeoutMs} ms:\n${tail()}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    kill: (signal = "SIGTERM") => stopChild(child, signal),
  };
}

export interface OutgoingMessage {
  topic: string;
  payload: string | Buffer;
}

export interface PublishProgress {
  /** Publishes handed to mqtt.js. */
  sent: number;
  /** PUBACKs received without an error reason code. */
  acked: number;
  /** PUBACKs with reason code 16: the broker had no subscriber (not even an offline session). */
  noSubscribers: number;
  errors: Error[];
  done: boolean;
}

/**
 * Publishes every message at QoS 1 with at most `window` unacknowledged at a time, optionally no
 * faster than `maxPerSecond`. `progress` is updated live, so a test can act in the middle;
 * `onSent` sees the index of each message as it is handed to mqtt.js.
 */
export function publishWindowed(
  client: MqttClient,
  messages: readonly OutgoingMessage[],
  options: { window: number; maxPerSecond?: number; onSent?: (index: number) => void },
): { progress: PublishProgress; finished: Promise<PublishProgress> } {
  const progress: PublishProgress = { sent: 0, acked: 0, noSubscribers: 0, errors: [], done: false };
  const finished = (async () => {
    const started = Date.now();
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const settled = () => {
      inFlight--;
      wake?.();
    };
    for (const message of messages) {
      while (inFlight >= options.window) await new Promise<void>((resolve) => (wake = resolve));
      if (options.maxPerSecond) {
        const due = started + (progress.sent * 1000) / options.maxPerSecond;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      }
      inFlight++;
      options.onSent?.(progress.sent);
      progress.sent++;
      client.publish(message.topic, message.payload, { qos: 1 }, (error, packet) => {
        if (error) progress.errors.push(error);
        else {
          progress.acked++;
          if (packet && "reasonCode" in packet && packet.reasonCode === 16) progress.noSubscribers++;
        }
        settled();
      });
    }
    while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
    progress.done = true;
    return progress;
  })();
  return { progress, finished };
}

/** An MQTT 5 client for the test's own publishing; rejects if the first connection fails. */
export async function connectPublisher(url: string, clientId: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, protocolVersion: 5, clean: true, reconnectPeriod: 0, ...extra });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns true; rejects with `describe()` after `timeoutMs`. */
export async function waitUntil(
  probe: () => Promise<boolean> | boolean,
  { timeoutMs, intervalMs = 50, describe }: { timeoutMs: number; intervalMs?: number; describe: () => string | Promise<string> },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await sleep(intervalMs);
  }
}
