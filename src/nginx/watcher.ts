// Watches the routes file; on change: coalesce, `nginx -t`, graceful reload, or restore the last good file.
import { EventEmitter } from "node:events";
import { stat } from "node:fs/promises";
import path from "node:path";
import chokidar, { type FSWatcher } from "chokidar";
import { parseRoutesFile, ROUTES_FILE_NAME } from "./routes-file.js";
import { Backoff } from "../core/backoff.js";
import { describeError, LastingFault } from "../core/errors.js";
import type { Logger } from "../logger.js";
import { runCommandLine, type CommandRunner } from "./commands.js";
import { readIfExists, writeAtomically } from "../files/atomic.js";
import { writeWatcherStatus, type WatcherStatus } from "./watcher-status.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";

const LAST_GOOD_FILE_NAME = ".routes.conf.last-good";

export interface WatcherOptions {
  configDir: string;
  testCommand: string;
  reloadCommand: string;
  /** Quiet time before applying, so a burst of writes makes one reload. */
  debounceMs: number;
  /** Longest a steady stream of writes may delay a reload. */
  maxWaitMs?: number;
  logger: Logger;
  run?: CommandRunner;
  /** Time for the debounce, the retries and the safety check; the system scheduler by default. */
  scheduler?: Scheduler;
}

export type ApplyOutcome = "reloaded" | "unchanged" | "rejected" | "reload-failed" | "missing" | "io-failed";

/** After a failed reload or a file it could not write, the watcher tries again on its own this often (doubling). */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 15_000;
const SAFETY_CHECK_MS = 2000;

/** A directory made again after removal often gets the same inode number back: its birth time tells them apart. */
function dirIdentity(info: { dev: number; ino: number; birthtimeMs: number } | undefined): string | undefined {
  return info ? `${info.dev}:${info.ino}:${info.birthtimeMs}` : undefined;
}

export class NginxWatcher {
  private readonly routesFile: string;
  private readonly lastGoodFile: string;
  private readonly run: CommandRunner;
  private fsWatcher: FSWatcher | undefined;
  private timer: Cancel | undefined;
  private firstPendingAt = 0;
  private applying: Promise<ApplyOutcome> | undefined;
  private again = false;
  private lastApplied: string | undefined;
  private readonly scheduler: Scheduler;
  private status: WatcherStatus;
  private closed = false;
  private safetyTimer: Cancel | undefined;
  /** "applied" (outcome, status) after every attempt: tests and the CLI wait on it instead of reading the status file. */
  readonly events = new EventEmitter<{ applied: [ApplyOutcome, WatcherStatus] }>();
  private watchedDir: string | undefined;
  private lastSeenFile: string | undefined;
  private checking = false;
  /** The fault last logged, so one that persists is reported once and its end once. */
  private readonly lasting = new LastingFault();
  private retryTimer: Cancel | undefined;
  private readonly retryBackoff = new Backoff({ firstMs: RETRY_FIRST_MS, maxMs: RETRY_MAX_MS });
  private statusWriteFailed = false;

  constructor(private readonly options: WatcherOptions) {
    this.routesFile = path.join(options.configDir, ROUTES_FILE_NAME);
    this.lastGoodFile = path.join(options.configDir, LAST_GOOD_FILE_NAME);
    this.run = options.run ?? runCommandLine;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.status = { state: "ok", updatedAt: this.isoNow(), appliedGeneration: 0, reloads: 0 };
  }

  private isoNow(): string {
    return new Date(this.scheduler.now()).toISOString();
  }

  async start(): Promise<void> {
    this.lastApplied = undefined;
    await this.applyNow();
    await this.watchDir();
    // Events can be lost (the directory removed and made again, a full inotify queue, a mount over it):
    // a cheap stat now and then catches what they missed, and watches the new directory.
    this.safetyTimer = this.scheduler.every(SAFETY_CHECK_MS, () => this.safetyCheck());
  }

  private async watchDir(): Promise<void> {
    await this.fsWatcher?.close();
    this.watchedDir = dirIdentity(await stat(this.options.configDir).catch(() => undefined));
    // The directory, not the file: an atomic rename replaces the file's inode, which a file watch would lose.
    const fsWatcher = chokidar.watch(this.options.configDir, {
      ignoreInitial: true,
      depth: 0,
      ignored: (file) => file !== this.options.configDir && path.basename(file) !== ROUTES_FILE_NAME,
    });
    this.fsWatcher = fsWatcher;
    fsWatcher.on("all", () => this.schedule());
    fsWatcher.on("error", (error) => this.options.logger.error(`watcher: ${describeError(error)}`));
    await new Promise<void>((resolve) => fsWatcher.once("ready", () => resolve()));
    // A write between the first apply and the watch being ready would otherwise go unseen.
    this.schedule();
  }

  private async safetyCheck(): Promise<void> {
    if (this.closed || this.checking) return;
    this.checking = true;
    try {
      const dir = await stat(this.options.configDir).catch(() => undefined);
      if (dir && dirIdentity(dir) !== this.watchedDir) {
        this.options.logger.warn(`watcher: ${this.options.configDir} was replaced; watching the new one`);
        await this.watchDir();
        return;
      }
      const file = await stat(this.routesFile).catch(() => undefined);
      const seen = file ? `${file.ino}:${file.size}:${file.mtimeMs}` : undefined;
      if (seen !== this.lastSeenFile) {
        this.lastSeenFile = seen;
        this.schedule();
      }
    } finally {
      this.checking = false;
    }
  }

  currentStatus(): WatcherStatus {
    return this.status;
  }

  private lastApplyEndedAt = 0;

  /**
   * The first change after a quiet spell is applied at once (a lone launch waits for nothing); changes
   * that follow close behind are coalesced: applied together after `debounceMs` of quiet, or at the latest
   * `maxWaitMs` after the first of them.
   */
  private schedule(): void {
    if (this.closed) return;
    const now = this.scheduler.now();
    const quiet = !this.applying && !this.timer && now - this.lastApplyEndedAt > this.options.debounceMs;
    if (!this.timer) this.firstPendingAt = now;
    this.timer?.();
    const maxWait = this.options.maxWaitMs ?? 1000;
    const delay = quiet ? 5 : Math.max(0, Math.min(this.options.debounceMs, this.firstPendingAt + maxWait - now));
    // Held open: a watcher between a change and its reload must not let its process exit.
    this.timer = this.scheduler.after(delay, () => {
      this.timer = undefined;
      void this.applyNow();
    }, { keepAlive: true });
  }

  /** Applies the current file once; concurrent calls share one run and queue one more. */
  async applyNow(): Promise<ApplyOutcome> {
    if (this.applying) {
      this.again = true;
      return this.applying;
    }
    this.applying = this.applyOnce().finally(() => {
      this.applying = undefined;
      this.lastApplyEndedAt = this.scheduler.now();
      if (this.again && !this.closed) {
        this.again = false;
        void this.applyNow();
      }
    });
    return this.applying;
  }

  private async applyOnce(): Promise<ApplyOutcome> {
    let outcome: ApplyOutcome;
    try {
      outcome = await this.applyContent();
    } catch (error) {
      // A config dir that cannot be read or written (full disk, read-only mount) must not stop the watcher.
      const cause = `cannot update ${this.options.configDir}: ${describeError(error)}`;
      this.lastApplied = undefined;
      this.fault(cause);
      await this.report({ state: "error", lastError: { kind: "io", message: cause, at: this.isoNow(), generation: this.status.appliedGeneration } });
      outcome = "io-failed";
    }
    if (outcome === "reload-failed" || outcome === "io-failed") this.retryLater();
    else {
      this.retryTimer?.();
      this.retryTimer = undefined;
      this.retryBackoff.reset();
      if (outcome !== "rejected" && this.lasting.clear() !== undefined) {
        this.options.logger.info(`watcher: recovered; nginx serves routes generation ${this.status.appliedGeneration}`);
      }
    }
    this.events.emit("applied", outcome, this.status);
    return outcome;
  }

  /** Logs a problem unless it is the one already logged. */
  private fault(cause: string): void {
    if (this.lasting.record(cause)) this.options.logger.error(`watcher: ${cause}`);
  }

  /** Nothing may change for a while (nginx stopped, disk full): try again by ourselves, backing off. */
  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = this.scheduler.after(this.retryBackoff.next(), () => {
      this.retryTimer = undefined;
      void this.applyNow();
    }, { keepAlive: true });
  }

  private async applyContent(): Promise<ApplyOutcome> {
    const content = await readIfExists(this.routesFile);
    if (content === undefined) return "missing";
    if (content === this.lastApplied) return "unchanged";
    const generation = parseRoutesFile(content).generation;

    const test = await this.run(this.options.testCommand);
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
    const reload = await this.run(this.options.reloadCommand);
    if (!reload.ok) {
      const message = `\`${this.options.reloadCommand}\` failed for generation ${generation}: ${reload.output || "no output"}`;
      this.fault(`\`${this.options.reloadCommand}\` failed: ${reload.output || "no output"}; retrying`);
      // The file is valid but nginx was not told: try again (retryLater), and on the next change.
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

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.();
    this.retryTimer?.();
    this.safetyTimer?.();
    await this.fsWatcher?.close();
    this.fsWatcher = undefined;
    await this.applying?.catch(() => {});
  }
}
