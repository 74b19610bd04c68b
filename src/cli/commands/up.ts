// `up`: everything on one machine (sample image, private nginx, watcher, controller) until Ctrl-C.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import type { Config } from "../../config/load.js";
import type { Logger } from "../../logger.js";
import { up } from "../../app/up.js";

export function defineUp(program: Command, cli: CliContext): void {
  program
    .command("up")
    .summary("run everything on this machine: sample image, a private nginx, the watcher and the controller")
    .description("run everything on this machine: the sample image, a private nginx, the watcher and the controller (see docs/getting-started/quick-start.md); Ctrl-C stops it and removes its demos")
    .option("--keep-demos", "leave demos running on exit (they are adopted next time)")
    .action(cli.withConfig((config, options: { keepDemos?: boolean }) => runUp(config, cli.logger("demo-launcher", config), options, cli)));
}

export async function runUp(config: Config, logger: Logger, options: { keepDemos?: boolean }, cli: Pick<CliContext, "out" | "untilSignal">): Promise<number> {
  const handle = await up(config, logger);
  // Without a token or a provider, the console opens only for a browser on this machine talking to the controller.
  const consoleUrl = config.adminToken || config.admin.oidc ? `${handle.url}__admin/` : `${handle.controller.url}/__admin/ (from this machine)`;
  cli.out.line(`\n  demo-launcher is up: open ${handle.url}\n  the operator's console: ${consoleUrl}\n  (Ctrl-C stops it${options.keepDemos ? "; demos keep running" : " and removes its demos"})\n`);
  const signal = await cli.untilSignal();
  logger.info(`${signal}: shutting down`);
  await handle.close({ keepDemos: options.keepDemos ?? false });
  return 0;
}
