#!/usr/bin/env node
// The command line: parses argv and runs one command; the one place that turns errors into exit codes.
import { readFileSync } from "node:fs";
import path from "node:path";
import { PACKAGE_ROOT } from "../nginx/render.js";
import { loadConfig } from "../config/load.js";
import { ConfigError } from "../config/schema.js";
import { SetupError, UsageError, describeError } from "../core/errors.js";
import { consoleLogger } from "../logger.js";
import { ApiError } from "./api-client.js";
import type { CliContext } from "./context.js";
import { stderr, stdout } from "./output.js";
import { buildProgram } from "./program.js";
import { runningConfig } from "./running-config.js";
import { connectDocker } from "../docker/runtime.js";
import { systemScheduler } from "../clock/system-scheduler.js";

/** The file of the one controller running here from a config file; undefined for the embedded default. */
async function configOfRunningController(): Promise<string | undefined> {
  const choice = await runningConfig(connectDocker(), systemScheduler);
  if (choice.kind === "several") throw new UsageError(`no --config given, and controllers run here from several configs: ${choice.holders.map((holder) => `${holder.config} (namespace ${holder.namespace}, ${holder.address})`).join("; ")}; name one with --config`);
  if (choice.kind === "defaults") return undefined;
  stderr.line(`demo-launcher: no --config given; using ${choice.file}, the config of the controller running at ${choice.holder.address} (namespace ${choice.holder.namespace})`);
  return choice.file;
}

/** The version in the package.json beside the built code (the same file npm installed it from). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    let received: string | undefined;
    // The handler stays while the shutdown runs: with none left, a library that watches signals (signal-exit,
    // under execa, while a child process runs) takes the signal as unhandled and raises it again, killing us
    // half-way. A second signal stops at once, as a second Ctrl-C should.
    const onSignal = (signal: string) => {
      if (received !== undefined) process.exit(130);
      received = signal;
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

const cli: CliContext = {
  out: stdout,
  err: stderr,
  /**
   * Runs a command with its config. `client`: a command that talks to a running controller (or reads what it
   * wrote); without --config it takes the config of the controller running on this host, and says so.
   */
  withConfig: (action, use = {}) =>
    async (...args) => {
      const options = program.opts<{ config?: string }>();
      const config = await loadConfig(options.config ?? (use.client ? await configOfRunningController() : undefined));
      const code = await action(config, ...args);
      if (typeof code === "number" && code !== 0) process.exitCode = code;
    },
  logger: (name, config) => consoleLogger(name, config.log.format),
  untilSignal,
};

const program = buildProgram(cli, packageVersion());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError || error instanceof UsageError) {
    stderr.line(`demo-launcher: ${error.message}`);
    process.exitCode = 2;
  } else if (error instanceof SetupError) {
    stderr.line(`demo-launcher: ${error.message}${error.hint ? ` (${error.hint})` : ""}`);
    process.exitCode = 1;
  } else if (error instanceof ApiError) {
    stderr.line(`demo-launcher: ${error.message}`);
    process.exitCode = 1;
  } else {
    stderr.line(`demo-launcher: ${describeError(error)}`);
    process.exitCode = 1;
  }
}

// Docker's HTTP agent can hold the event loop open after a command has finished its work.
systemScheduler.after(1500, () => process.exit(process.exitCode ?? 0));
