#!/usr/bin/env node
// The command line: parses argv and runs one command; the one place that turns errors into exit codes.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { PACKAGE_ROOT } from "../nginx/render.js";
import { loadConfig, type Config } from "../config/load.js";
import { ConfigError } from "../config/schema.js";
import { SetupError, UsageError, describeError } from "../core/errors.js";
import { consoleLogger } from "../logger.js";
import { ApiError } from "./api-client.js";
import { runBuilds, runDeliveries, runPreview } from "./builds.js";
import { runRewind, runSnapshot } from "./rewind.js";
import { runDoctor, runExtend, runLogs, runReplace, runLaunch, runList, runRender, runServe, runStop, runUp, runWatch } from "./commands.js";
import { runFirewall } from "./host-checks.js";
import { runningConfig } from "./running-config.js";
import { connectDocker } from "../docker/runtime.js";
import { systemScheduler } from "../clock/system-scheduler.js";

/**
 * Runs a command with its config. `client`: a command that talks to a running controller (or reads what it
 * wrote); without --config it takes the config of the controller running on this host, and says so.
 */
function withConfig<T extends unknown[]>(action: (config: Config, ...args: T) => Promise<number | void>, use: { client?: boolean } = {}) {
  return async (...args: T) => {
    const options = program.opts<{ config?: string }>();
    const config = await loadConfig(options.config ?? (use.client ? await configOfRunningController() : undefined));
    const code = await action(config, ...args);
    if (typeof code === "number" && code !== 0) process.exitCode = code;
  };
}

/** The file of the one controller running here from a config file; undefined for the embedded default. */
async function configOfRunningController(): Promise<string | undefined> {
  const choice = await runningConfig(connectDocker(), systemScheduler);
  if (choice.kind === "several") throw new UsageError(`no --config given, and controllers run here from several configs: ${choice.holders.map((holder) => `${holder.config} (namespace ${holder.namespace}, ${holder.address})`).join("; ")}; name one with --config`);
  if (choice.kind === "defaults") return undefined;
  console.error(`demo-launcher: no --config given; using ${choice.file}, the config of the controller running at ${choice.holder.address} (namespace ${choice.holder.namespace})`);
  return choice.file;
}

/** The version in the package.json beside the built code (the same file npm installed it from). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

function parseWaitSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--wait: ${JSON.stringify(value)} is not a number of seconds`);
  return seconds;
}

const program = new Command()
  .name("demo-launcher")
  .description("Gives every visitor their own time-boxed copy of a web app: Docker containers routed by nginx.")
  .version(packageVersion(), "-V, --version", "print the version")
  .option("-c, --config <file>", "YAML configuration file (default: the embedded demo.localhost set-up)")
  // A usage error is one line, like every other failure (the full usage is one --help away).
  .configureOutput({ outputError: (text, write) => write(`demo-launcher: ${text.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim()} (--help shows the usage)\n`) });

program.command("up").description("run everything on this machine: sample image, a private nginx, the watcher and the controller").option("--keep-demos", "leave demos running on exit (they are adopted next time)").action(withConfig((config, options: { keepDemos?: boolean }) => runUp(config, consoleLogger("demo-launcher", config.log.format), options)));
program.command("serve").description("run the controller (HTTP API, pages, reaper)").action(withConfig((config) => runServe(config, consoleLogger("demo-launcher", config.log.format))));
program
  .command("watch-nginx")
  .description("watch the routes file: nginx -t, then a graceful reload; keep the last good file on failure")
  .option("--test-command <command>", "command that checks nginx's config (default from config: nginx -t -q)")
  .option("--reload-command <command>", "command that reloads nginx gracefully (default from config: nginx -s reload)")
  .action(withConfig((config, options: { testCommand?: string; reloadCommand?: string }) => runWatch(config, consoleLogger("demo-launcher-watcher", config.log.format), options)));
program
  .command("launch")
  .description("launch a demo through the controller")
  .argument("[app]", "app name (default: the first app in the config)")
  .option("--json", "print the demo as JSON")
  .addOption(new Option("--wait <seconds>", "wait until the demo is ready or failed").argParser(parseWaitSeconds))
  .action(withConfig((config, app: string | undefined, options: { json?: boolean; wait?: number }) => runLaunch(config, app, options), { client: true }));
program.command("ls").description("list live demos").option("--json", "print JSON").action(withConfig((config, options: { json?: boolean }) => runList(config, options), { client: true }));
program.command("stop").description("stop a demo and remove its container").argument("<id>", "demo id").action(withConfig((config, id: string) => runStop(config, id), { client: true }));
program.command("extend").description("give a live demo more time (admin)").argument("<id>", "demo id").argument("<duration>", "how much more, for example 10m or 1h (at most 24h)").action(withConfig((config, id: string, by: string) => runExtend(config, id, by), { client: true }));
program
  .command("replace")
  .description("replace a ready demo's container with zero downtime (admin); the old one serves until the new one answers")
  .argument("<id>", "demo id")
  .option("--image <image>", "image of the new instance (default: the app's configured image, as Docker has it now)")
  .option("--wait <seconds>", "wait until the replacement succeeded or failed", parseWaitSeconds)
  .action(withConfig((config, id: string, options: { image?: string; wait?: number }) => runReplace(config, id, options), { client: true }));
program
  .command("logs")
  .description("print the last lines a demo's container wrote (admin)")
  .argument("<id>", "demo id")
  .option("--lines <n>", "how many lines, 1 to 1000 (default 200)", (value: string) => Number(value))
  .action(withConfig((config, id: string, options: { lines?: number }) => runLogs(config, id, options), { client: true }));
program
  .command("rewind")
  .description("bring a demo's database back to one of its app's state sources (admin); answers with a job")
  .argument("<id>", "demo id")
  .argument("[source]", "state source name (default: the app's default source)")
  .option("--wait [seconds]", "wait until the rewind is done or failed (default 600 s)", parseWaitSeconds)
  .action(withConfig((config, id: string, source: string | undefined, options: { wait?: number | boolean }) => runRewind(config, id, source, options), { client: true }));
program
  .command("snapshot")
  .description("save a ready demo's container as a snapshot source of its app (admin); answers with a job")
  .argument("<id>", "demo id")
  .argument("<source>", "a state source of kind snapshot")
  .option("--wait [seconds]", "wait until it is saved or failed (default 600 s)", parseWaitSeconds)
  .action(withConfig((config, id: string, source: string, options: { wait?: number | boolean }) => runSnapshot(config, id, source, options), { client: true }));
program
  .command("preview")
  .description("build a branch or commit of a preview source and serve it at its preview host (admin)")
  .argument("<source>", "a source under previews: in the config")
  .argument("<ref>", "a branch name, or a commit (7 to 40 hex digits)")
  .option("--json", "print the build as JSON")
  .option("--wait <seconds>", "wait until the build is ready or failed", parseWaitSeconds)
  .action(withConfig((config, source: string, ref: string, options: { wait?: number; json?: boolean }) => runPreview(config, source, ref, options), { client: true }));
program
  .command("builds")
  .description("preview builds (admin): ls, log <id> [-f], cancel <id>")
  .argument("[action]", "ls (default), log or cancel")
  .argument("[id]", "the build id, for log and cancel")
  .option("-f, --follow", "with log: keep printing until the build ends")
  .option("--json", "with ls: print JSON")
  .action(withConfig((config, action: string | undefined, id: string | undefined, options: { follow?: boolean; json?: boolean }) => runBuilds(config, action, id, options), { client: true }));
program
  .command("deliveries")
  .description("recent GitHub webhook deliveries and what became of them (admin)")
  .option("--json", "print JSON")
  .action(withConfig((config, options: { json?: boolean }) => runDeliveries(config, options), { client: true }));
program.command("render").description("print the routes file for the demos Docker runs now").action(withConfig((config) => runRender(config), { client: true }));
program
  .command("firewall")
  .description("put the demo networks' egress rules in place (as root; the controller does this itself when it runs as root)")
  .option("--check", "only say whether they hold (exit code 1 when not)")
  .action(withConfig((config, options: { check?: boolean }) => runFirewall(config, connectDocker(), options)));
program.command("doctor").description("check Docker, nginx, the config dir and the watcher").action(withConfig((config) => runDoctor(config), { client: true }));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError || error instanceof UsageError) {
    console.error(`demo-launcher: ${error.message}`);
    process.exitCode = 2;
  } else if (error instanceof SetupError) {
    console.error(`demo-launcher: ${error.message}${error.hint ? ` (${error.hint})` : ""}`);
    process.exitCode = 1;
  } else if (error instanceof ApiError) {
    console.error(`demo-launcher: ${error.message}`);
    process.exitCode = 1;
  } else {
    console.error(`demo-launcher: ${describeError(error)}`);
    process.exitCode = 1;
  }
}

// Docker's HTTP agent can hold the event loop open after a command has finished its work.
systemScheduler.after(1500, () => process.exit(process.exitCode ?? 0));
