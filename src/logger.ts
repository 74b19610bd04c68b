// The logger interface passed to every part, with a console default; no module-level singleton.
import type { Logger } from "./core/app-spec.js";

export type { Logger } from "./core/app-spec.js";

export function consoleLogger(prefix = "demo-launcher"): Logger {
  const line = (level: string, message: string) => `${new Date().toISOString()} ${prefix} ${level} ${message}`;
  return {
    info: (message) => console.log(line("info", message)),
    warn: (message) => console.warn(line("warn", message)),
    error: (message) => console.error(line("error", message)),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
