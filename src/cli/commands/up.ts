// `up`: everything on one machine (sample image, private nginx, watcher, controller) until Ctrl-C.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import type { Config } from "../../config/load.js";
import type { Logger } from "../../logger.js";
import { up, withLocalTls } from "../../app/up.js";
import { localCaDir } from "../../app/tls.js";
import path from "node:path";

export function defineUp(program: Command, cli: CliContext): void {
  program
    .command("up")
    .summary("run everything on this machine: sample image, a private nginx, the watcher and the controller")
    .description("run everything on this machine: the sample image, a private nginx, the watcher and the controller (see docs/getting-started/quick-start.md); Ctrl-C stops it and removes its demos")
    .option("--keep-demos", "leave demos running on exit (they are adopted next time)")
    .option("--tls", "serve HTTPS too (on 8443 unless nginx.listenTls says otherwise), from a local CA made once under the state dir; its root is printed for your browser to trust")
    .action(cli.withConfig((config, options: { keepDemos?: boolean; tls?: boolean }) => runUp(options.tls ? withLocalTls(config) : config, cli.logger("demo-launcher", config), options, cli)));
}

export async function runUp(config: Config, logger: Logger, options: { keepDemos?: boolean }, cli: Pick<CliContext, "out" | "untilSignal">): Promise<number> {
  const handle = await up(config, logger);
  // Without a token or a provider, the console opens only for a browser on this machine talking to the controller.
  const consoleUrl = config.adminToken || config.admin.oidc ? `${handle.url}__admin/` : `${handle.controller.url}/__admin/ (from this machine)`;
  cli.out.line(`\n  demo-launcher is up: open ${handle.url}\n  the operator's console: ${consoleUrl}\n  (Ctrl-C stops it${options.keepDemos ? "; demos keep running" : " and removes its demos"})\n`);
  if (config.tls?.local) {
    const root = path.join(localCaDir(config), "root.pem");
    cli.out.line(`  HTTPS comes from a local CA made for this state dir. Trust its root once:\n    ${root}\n  Firefox/Chrome: import it as an authority in the certificate settings; curl: --cacert ${root}\n  Debian: cp ${root} /usr/local/share/ca-certificates/demo-launcher.crt && update-ca-certificates\n`);
  }
  const signal = await cli.untilSignal();
  logger.info(`${signal}: shutting down`);
  await handle.close({ keepDemos: options.keepDemos ?? false });
  return 0;
}
