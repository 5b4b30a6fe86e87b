import pino, { type Logger } from "pino";

export type { Logger };

/** Structured JSON logs; credentials are redacted wherever they appear by these names. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "plantgraph" },
      redact: {
        paths: ["password", "*.password", "token", "*.token", "secret", "*.secret", "authorization", "*.authorization"],
        censor: "[redacted]",
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
