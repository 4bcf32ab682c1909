import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

/**
 * Paths pino replaces with "[Redacted]" before a line is written. Secrets should never be
 * logged in the first place; this is the second line of defence for objects that carry them.
 */
const REDACT_PATHS: readonly string[] = [
  "password",
  "*.password",
  "*.*.password",
  "sk",
  "*.sk",
  "*.*.sk",
  "secret_key",
  "*.secret_key",
  "*.*.secret_key",
  "token",
  "*.token",
  "*.*.token",
  "authorization",
  "*.authorization",
  "*.*.authorization",
  'headers["x-auth-token"]',
  '*.headers["x-auth-token"]',
  'headers["x-subject-token"]',
  '*.headers["x-subject-token"]',
];

interface LoggerOptions {
  readonly name: string;
  readonly level?: string;
  /** Where lines go; stdout by default. Tests pass an in-memory stream. */
  readonly destination?: DestinationStream;
}

/** JSON lines on stdout, one logger per process, created by the composition root. */
export function createLogger(options: LoggerOptions): Logger {
  const config = {
    name: options.name,
    level: options.level ?? "info",
    redact: { paths: [...REDACT_PATHS], censor: "[Redacted]" },
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}
