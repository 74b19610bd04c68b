// The logger interface passed to every part, as text lines or one JSON object a line; no module-level singleton.
import type { Logger } from "./core/app-spec.js";
import { systemScheduler } from "./clock/system-scheduler.js";

export type { Logger } from "./core/app-spec.js";

export type LogFormat = "text" | "json";

/** `now` stamps each line (the scheduler's clock; the real one by default). */
export function consoleLogger(prefix = "demo-launcher", format: LogFormat = "text", now: () => number = () => systemScheduler.now()): Logger {
  const write = (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => {
    const time = new Date(now()).toISOString();
    const line =
      format === "json"
        ? JSON.stringify({ time, level, source: prefix, msg: message, ...fields })
        : `${time} ${prefix} ${level} ${message}${typeof fields?.requestId === "string" ? ` [request ${fields.requestId}]` : ""}`;
    (level === "info" ? console.log : level === "warn" ? console.warn : console.error)(line);
  };
  return {
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
