// Starts the nginx watcher for a config, with the configured or given test and reload commands.
import { mkdir } from "node:fs/promises";
import type { Config } from "../config/load.js";
import type { Logger } from "../logger.js";
import { NginxWatcher } from "../nginx/watcher.js";

export async function startWatcher(config: Config, logger: Logger, commands: { testCommand?: string; reloadCommand?: string } = {}): Promise<NginxWatcher> {
  await mkdir(config.nginx.configDir, { recursive: true });
  const watcher = new NginxWatcher({
    configDir: config.nginx.configDir,
    testCommand: commands.testCommand ?? config.nginx.testCommand,
    reloadCommand: commands.reloadCommand ?? config.nginx.reloadCommand,
    debounceMs: config.nginx.debounce,
    logger,
  });
  await watcher.start();
  logger.info(`watcher: watching ${config.nginx.configDir}`);
  return watcher;
}
