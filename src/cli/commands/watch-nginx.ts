// `watch-nginx`: the watcher (routes file changes → nginx -t → graceful reload, or the last good file back).
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import type { Config } from "../../config/load.js";
import type { Logger } from "../../logger.js";
import { startWatcher } from "../../app/watcher-service.js";

export function defineWatchNginx(program: Command, cli: CliContext): void {
  program
    .command("watch-nginx")
    .summary("watch the routes file: nginx -t, then a graceful reload; keep the last good file on failure")
    .description("watch routes.conf: coalesce bursts, nginx -t, graceful reload; on a failed test put the last good file back and record the error in the watcher's status file")
    .option("--test-command <command>", "command that checks nginx's config (default from config: nginx -t -q)")
    .option("--reload-command <command>", "command that reloads nginx gracefully (default from config: nginx -s reload)")
    .action(cli.withConfig((config, options: { testCommand?: string; reloadCommand?: string }) => runWatch(config, cli.logger("demo-launcher-watcher", config), options, cli)));
}

export async function runWatch(config: Config, logger: Logger, commands: { testCommand?: string; reloadCommand?: string }, cli: Pick<CliContext, "untilSignal">): Promise<number> {
  const watcher = await startWatcher(config, logger, commands);
  await cli.untilSignal();
  await watcher.close();
  return 0;
}
