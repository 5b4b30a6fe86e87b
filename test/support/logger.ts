import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/log/logger.js";

export type LogLine = Record<string, unknown> & { msg?: string };

/** A logger whose lines the test can read: parsed, and as written (for greps). */
export function capturingLogger(level = "info"): { log: Logger; lines: LogLine[]; raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      raw.push(text);
      lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  return { log: createLogger(level, sink), lines, raw };
}
