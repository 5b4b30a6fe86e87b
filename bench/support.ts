import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";

/** Pieces the benchmarks share: publisher processes, waiting, statistics, profiling. */

/** `base64`: a binary payload (Sparkplug protobuf), base64 to cross the process boundary as JSON. */
export type Message = { topic: string; payload: string; base64?: true };

export interface Publishers {
  /** Lets every publisher go at once. */
  go(): void;
  /** Per publisher, the wall-clock time (ms) each of its messages was published, once all are acknowledged. */
  done: Promise<number[][]>;
  /** Kills publishers still running (after a failure). */
  stop(): void;
}

/**
 * Starts one publisher process (bench/publisher.ts) per slice, waits until they are connected and
 * returns; `go` lets them publish. `window`: unacknowledged QoS 1 messages each; `maxPerSecond`: a
 * steady schedule instead of as fast as the broker takes them.
 */
export async function startPublishers(url: string, slices: readonly Message[][], options: { window?: number; maxPerSecond?: number } = {}): Promise<Publishers> {
  const script = path.resolve(process.cwd(), "bench/publisher.ts");
  const children: ChildProcess[] = slices.map(() => fork(script, { execArgv: ["--import", "tsx"], stdio: "inherit" }));
  const stop = () => children.forEach((child) => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"));
  try {
    await Promise.all(
      children.map(
        (child, p) =>
          new Promise<void>((resolve, reject) => {
            child.once("message", () => resolve());
            child.once("exit", (code) => reject(new Error(`publisher exited with ${code} before connecting`)));
            child.send({ url, messages: slices[p], window: options.window ?? 200, maxPerSecond: options.maxPerSecond });
          }),
      ),
    );
  } catch (error) {
    stop();
    throw error;
  }
  const done = Promise.all(
    children.map(
      (child) =>
        new Promise<number[]>((resolve, reject) => {
          let sentAt: number[] | undefined;
          child.on("message", (message: { sentAt?: number[] }) => (sentAt = message.sentAt ?? sentAt));
          child.once("exit", (code) => (code === 0 && sentAt ? resolve(sentAt) : reject(new Error(`publisher exited with ${code}`))));
        }),
    ),
  );
  return { go: () => children.forEach((c) => c.send("go")), done, stop };
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const wallClock = () => performance.timeOrigin + performance.now();

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 300_000, pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Nearest-rank percentile (p in 0..100); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The kinds in the order of this round: rotated each round, so load drift falls on all of them. */
export const roundOrder = <T>(kinds: readonly T[], round: number): T[] => [...kinds.slice(round % kinds.length), ...kinds.slice(0, round % kinds.length)];

export const ratio = (value: number, baseline: number) => Math.round((value / baseline) * 100) / 100;

/** With BENCH_PROFILE=<file>, a CPU profile of this process while it runs (open it in Chrome DevTools). */
export async function startProfiler(): Promise<{ stop(): Promise<void> } | undefined> {
  const file = process.env.BENCH_PROFILE;
  if (!file) return undefined;
  const { Session } = await import("node:inspector/promises");
  const { writeFile } = await import("node:fs/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    stop: async () => {
      const { profile } = await session.post("Profiler.stop");
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** The Jira fake in its own process (bench/jira-fake.process.ts); `onCreated` hears each issue's summary and arrival time. */
export async function startJiraFakeProcess(onCreated: (summary: string, at: number) => void): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const child = fork(path.resolve(process.cwd(), "bench/jira-fake.process.ts"), { execArgv: ["--import", "tsx"], stdio: "inherit" });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the Jira fake exited with ${code} before listening`)));
    child.on("message", (message: { baseUrl?: string; created?: [string, number][] }) => {
      if (message.baseUrl) resolve(message.baseUrl);
      for (const [summary, at] of message.created ?? []) onCreated(summary, at);
    });
  });
  return {
    baseUrl,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.disconnect();
      }),
  };
}
