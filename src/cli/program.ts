// The command line's shape: the program, its global options and every command (one file each under commands/).
// main.ts runs it; the CLI reference (docs/reference/cli.md) is generated from it.
import { Command } from "commander";
import type { CliContext, CommandDefinition } from "./context.js";
import { defineUp } from "./commands/up.js";
import { defineServe } from "./commands/serve.js";
import { defineWatchNginx } from "./commands/watch-nginx.js";
import { defineLaunch } from "./commands/launch.js";
import { defineLs } from "./commands/ls.js";
import { defineStop } from "./commands/stop.js";
import { defineExtend } from "./commands/extend.js";
import { defineReplace } from "./commands/replace.js";
import { defineLogs } from "./commands/logs.js";
import { defineRewind } from "./commands/rewind.js";
import { defineSnapshot } from "./commands/snapshot.js";
import { definePreview } from "./commands/preview.js";
import { defineBuilds } from "./commands/builds.js";
import { defineDeliveries } from "./commands/deliveries.js";
import { defineRender } from "./commands/render.js";
import { defineFirewall } from "./commands/firewall.js";
import { defineDoctor } from "./commands/doctor.js";
import { defineAccess } from "./commands/access.js";
import { defineTls } from "./commands/tls.js";

/** In the order `--help` and the reference list them. */
const COMMANDS: CommandDefinition[] = [defineUp, defineServe, defineWatchNginx, defineLaunch, defineLs, defineStop, defineExtend, defineReplace, defineLogs, defineRewind, defineSnapshot, definePreview, defineBuilds, defineDeliveries, defineRender, defineFirewall, defineDoctor, defineAccess, defineTls];

export function buildProgram(cli: CliContext, version: string): Command {
  const program = new Command()
    .name("demo-launcher")
    .description("Gives every visitor their own time-boxed copy of a web app: Docker containers routed by nginx.")
    .version(version, "-V, --version", "print the version")
    .option("-c, --config <file>", "YAML configuration file (default: the embedded demo.localhost set-up)")
    // A usage error is one line, like every other failure (the full usage is one --help away).
    .configureOutput({ outputError: (text, write) => write(`demo-launcher: ${text.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim()} (--help shows the usage)\n`) });
  for (const define of COMMANDS) define(program, cli);
  return program;
}
