// What every CLI command is given: where its words go, how it gets its config, the logger and signals of a long run.
import type { Command } from "commander";
import type { Config } from "../config/load.js";
import type { Logger } from "../logger.js";
import type { Output } from "./output.js";

export interface CliContext {
  /** The command's result (stdout in the CLI, a list in tests). */
  out: Output;
  /** Notes and failures beside the result (stderr in the CLI). */
  err: Output;
  /** Wraps an action: loads its config (a client command without --config takes the running controller's) and sets the exit code. */
  withConfig<T extends unknown[]>(action: (config: Config, ...args: T) => Promise<number | void>, use?: { client?: boolean }): (...args: T) => Promise<void>;
  /** The logger of a long-running command (up, serve, watch-nginx), in the config's log format. */
  logger(name: string, config: Config): Logger;
  /** Resolves with the first SIGINT or SIGTERM; a second one exits at once. */
  untilSignal(): Promise<string>;
}

/** One command: adds itself (its arguments, options, help and action) to the program. */
export type CommandDefinition = (program: Command, cli: CliContext) => void;

/** `--wait <seconds>`: a positive number, else commander reports the option and the value. */
export function parseWaitSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--wait: ${JSON.stringify(value)} is not a number of seconds`);
  return seconds;
}
