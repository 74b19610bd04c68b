// `serve`: the controller (HTTP API, pages, reaper) until SIGINT or SIGTERM; demos stay for the next start.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import type { Config } from "../../config/load.js";
import type { Logger } from "../../logger.js";
import { startController } from "../../app/controller.js";

export function defineServe(program: Command, cli: CliContext): void {
  program
    .command("serve")
    .summary("run the controller (HTTP API, pages, reaper)")
    .description("run the controller: HTTP API and pages, the reaper, Docker; SIGINT or SIGTERM stops it and leaves demos running (they are adopted at the next start)")
    .action(cli.withConfig((config) => runServe(config, cli.logger("demo-launcher", config), cli)));
}

export async function runServe(config: Config, logger: Logger, cli: Pick<CliContext, "untilSignal">): Promise<number> {
  const controller = await startController(config, { logger });
  const signal = await cli.untilSignal();
  logger.info(`${signal}: shutting down (demos keep running and are adopted at the next start)`);
  await controller.close();
  return 0;
}
