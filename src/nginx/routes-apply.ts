// Applies the routes file once: `nginx -t`, then a graceful reload, or the last good file put back; writes the
// watcher's status file after each attempt and reports a lasting fault once.
import path from "node:path";
import { describeError, LastingFault } from "../core/errors.js";
import type { Scheduler } from "../core/scheduler.js";
import { readIfExists, writeAtomically } from "../files/atomic.js";
import type { Logger } from "../logger.js";
import type { CommandRunner } from "./commands.js";
import { parseRoutesFile, ROUTES_FILE_NAME } from "./routes-file.js";
import { writeWatcherStatus, type WatcherStatus } from "./watcher-status.js";

const LAST_GOOD_FILE_NAME = ".routes.conf.last-good";

export type ApplyOutcome = "reloaded" | "unchanged" | "rejected" | "reload-failed" | "missing" | "io-failed";

export interface ApplyOptions {
  configDir: string;
  testCommand: string;
  reloadCommand: string;
  run: CommandRunner;
  logger: Logger;
  scheduler: Scheduler;
}

export class RoutesApplier {
  private readonly routesFile: string;
  private readonly lastGoodFile: string;
  private lastApplied: string | undefined;
  private status: WatcherStatus;
  /** The fault last logged, so one that persists is reported once and its end once. */
  private readonly lasting = new LastingFault();
  private statusWriteFailed = false;

  constructor(private readonly options: ApplyOptions) {
    this.routesFile = path.join(options.configDir, ROUTES_FILE_NAME);
    this.lastGoodFile = path.join(options.configDir, LAST_GOOD_FILE_NAME);
    this.status = { state: "ok", updatedAt: this.isoNow(), appliedGeneration: 0, reloads: 0 };
  }

  get current(): WatcherStatus {
    return this.status;
  }

  /** The next apply tests and reloads even an unchanged file (at start: nginx may hold something else). */
  forget(): void {
    this.lastApplied = undefined;
  }

  /** One attempt; never throws (a config dir that cannot be read or written must not stop the watcher). */
  async apply(): Promise<ApplyOutcome> {
    let outcome: ApplyOutcome;
    try {
      outcome = await this.applyContent();
    } catch (error) {
      const cause = `cannot update ${this.options.configDir}: ${describeError(error)}`;
      this.lastApplied = undefined;
      this.fault(cause);
      await this.report({ state: "error", lastError: { kind: "io", message: cause, at: this.isoNow(), generation: this.status.appliedGeneration } });
      outcome = "io-failed";
    }
    if (outcome !== "reload-failed" && outcome !== "io-failed" && outcome !== "rejected" && this.lasting.clear() !== undefined) {
      this.options.logger.info(`watcher: recovered; nginx serves routes generation ${this.status.appliedGeneration}`);
    }
    return outcome;
  }

  private isoNow(): string {
    return new Date(this.options.scheduler.now()).toISOString();
  }

  /** Logs a problem unless it is the one already logged. */
  private fault(cause: string): void {
    if (this.lasting.record(cause)) this.options.logger.error(`watcher: ${cause}`);
  }

  private async applyContent(): Promise<ApplyOutcome> {
    const content = await readIfExists(this.routesFile);
    if (content === undefined) return "missing";
    if (content === this.lastApplied) return "unchanged";
    const generation = parseRoutesFile(content).generation;

    const test = await this.options.run(this.options.testCommand);
    if (!test.ok) {
      const lastGood = await readIfExists(this.lastGoodFile);
      // Put the last good file back so that a restart of nginx still finds a valid config, unless the
      // controller has written a newer file meanwhile: that one gets its own test.
      const stillTheSame = (await readIfExists(this.routesFile)) === content;
      if (lastGood !== undefined && lastGood !== content && stillTheSame) await writeAtomically(this.routesFile, lastGood);
      this.lastApplied = lastGood;
      const message = `generation ${generation} failed \`${this.options.testCommand}\`, kept the last good routes file: ${test.output || "no output"}`;
      // Logged once per cause: the controller writing its routes again (each generation) is the same fault.
      this.fault(`a routes file failed \`${this.options.testCommand}\`, kept the last good one: ${test.output || "no output"}`);
      await this.report({ state: "error", lastError: { kind: "rejected", message, at: this.isoNow(), generation } });
      return "rejected";
    }

    await writeAtomically(this.lastGoodFile, content);
    this.lastApplied = content;
    const reload = await this.options.run(this.options.reloadCommand);
    if (!reload.ok) {
      const message = `\`${this.options.reloadCommand}\` failed for generation ${generation}: ${reload.output || "no output"}`;
      this.fault(`\`${this.options.reloadCommand}\` failed: ${reload.output || "no output"}; retrying`);
      // The file is valid but nginx was not told: try again (the watcher's retry), and on the next change.
      this.lastApplied = undefined;
      await this.report({ state: "error", lastError: { kind: "reload", message, at: this.isoNow(), generation } });
      return "reload-failed";
    }
    this.options.logger.info(`watcher: reloaded nginx for routes generation ${generation}`);
    await this.report({ state: "ok", appliedGeneration: generation, reloads: this.status.reloads + 1 });
    return "reloaded";
  }

  private async report(change: Partial<WatcherStatus>): Promise<void> {
    this.status = { ...this.status, ...change, updatedAt: this.isoNow() };
    if (change.state === "ok") delete this.status.lastError;
    try {
      await writeWatcherStatus(this.options.configDir, this.status);
      this.statusWriteFailed = false;
    } catch (error) {
      // Usually the same fault as the config dir itself: report it once, and only if nothing else was.
      if (!this.statusWriteFailed && !this.lasting.active) this.options.logger.error(`watcher: cannot write the status file: ${describeError(error)}`);
      this.statusWriteFailed = true;
    }
  }
}
