// Starts the nginx watcher for a config, with the configured or given test and reload commands.
import { mkdir } from "node:fs/promises";
import type { Config } from "../config/load.js";
import type { Logger } from "../logger.js";
import { NginxWatcher } from "../nginx/watcher.js";
import { readServedGeneration, untilReloaded } from "../nginx/confirm.js";
import { olderNginxWorkersRetired } from "../nginx/workers.js";

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

/**
 * The watcher beside an nginx just started (`up`, the tests): its first apply reloads whatever nginx holds, and a
 * request sent meanwhile could meet an old worker closing its idle connections. `served`: the workers of that reload
 * answer alone (false when it took over 10 s); true at once when nothing was reloaded.
 */
export async function startWatcherBesideNginx(config: Config, logger: Logger, commands: { testCommand?: string; reloadCommand?: string }): Promise<{ watcher: NginxWatcher; served: boolean }> {
  const before = (await readServedGeneration(config.nginx.probeUrl, config.domain))?.worker;
  const watcher = await startWatcher(config, logger, commands);
  const served = watcher.currentStatus().reloads === 0 || (await untilReloaded(config.nginx.probeUrl, config.domain, before, olderNginxWorkersRetired));
  return { watcher, served };
}
