/**
 * Structured logs: one JSON object per line on stderr, filtered by level.
 * A line written while a request (or a run it scheduled) is handled
 * carries that request's `correlation` id (see tracing.ts).
 */
import process from "node:process";
import type { LogLevel } from "./config.ts";
import { currentCorrelation } from "./tracing.ts";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const log = (at: LogLevel) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[at] < ORDER[level]) return;
    const correlation = currentCorrelation();
    write(
      JSON.stringify({
        t: new Date().toISOString(),
        level: at,
        msg,
        ...(correlation ? { correlation } : {}),
        ...fields,
      }) +
        "\n",
    );
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}
