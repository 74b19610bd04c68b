// The logger interface passed to every part, with a console default; no module-level singleton.
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function consoleLogger(prefix = "demo-launcher"): Logger {
  const line = (level: string, message: string) => `${new Date().toISOString()} ${prefix} ${level} ${message}`;
  return {
    info: (message) => console.log(line("info", message)),
    warn: (message) => console.warn(line("warn", message)),
    error: (message) => console.error(line("error", message)),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
