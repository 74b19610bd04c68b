// The nginx watcher: the directory watch (dir-watch.ts) pokes a debounce on the scheduler (core/routing/debounce.ts), which
// runs the apply (routes-apply.ts: test, reload, last good); a failed reload or write is tried again, backing off.
import { EventEmitter } from "node:events";
import { Backoff } from "../core/backoff.js";
import { Debounce } from "../core/routing/debounce.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import type { Logger } from "../logger.js";
import { runCommandLine, type CommandRunner } from "./commands.js";
import { DirectoryWatch } from "./dir-watch.js";
import { RoutesApplier, type ApplyOutcome } from "./routes-apply.js";
import { ROUTES_FILE_NAME } from "./routes-file.js";
import type { WatcherStatus } from "./watcher-status.js";

export type { ApplyOutcome } from "./routes-apply.js";

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

/** After a failed reload or a file it could not write, the watcher tries again on its own this often (doubling). */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 15_000;

export class NginxWatcher {
  private readonly scheduler: Scheduler;
  private readonly applier: RoutesApplier;
  private readonly debounce: Debounce;
  private readonly dirWatch: DirectoryWatch;
  private applying: Promise<ApplyOutcome> | undefined;
  private again = false;
  private closed = false;
  private retryTimer: Cancel | undefined;
  private readonly retryBackoff = new Backoff({ firstMs: RETRY_FIRST_MS, maxMs: RETRY_MAX_MS });
  /** "applied" (outcome, status) after every attempt: tests and the CLI wait on it instead of reading the status file. */
  readonly events = new EventEmitter<{ applied: [ApplyOutcome, WatcherStatus] }>();

  constructor(private readonly options: WatcherOptions) {
    this.scheduler = options.scheduler ?? systemScheduler;
    this.applier = new RoutesApplier({ configDir: options.configDir, testCommand: options.testCommand, reloadCommand: options.reloadCommand, run: options.run ?? runCommandLine, logger: options.logger, scheduler: this.scheduler });
    this.debounce = new Debounce(this.scheduler, { quietMs: options.debounceMs, maxWaitMs: options.maxWaitMs ?? 1000, busy: () => this.applying !== undefined, run: () => void this.applyNow() });
    this.dirWatch = new DirectoryWatch(options.configDir, ROUTES_FILE_NAME, () => this.debounce.poke(), this.scheduler, options.logger);
  }

  async start(): Promise<void> {
    this.applier.forget();
    await this.applyNow();
    await this.dirWatch.start();
  }

  currentStatus(): WatcherStatus {
    return this.applier.current;
  }

  /** Applies the current file once; concurrent calls share one run and queue one more. */
  async applyNow(): Promise<ApplyOutcome> {
    if (this.applying) {
      this.again = true;
      return this.applying;
    }
    this.applying = this.applyOnce().finally(() => {
      this.applying = undefined;
      this.debounce.ran();
      if (this.again && !this.closed) {
        this.again = false;
        void this.applyNow();
      }
    });
    return this.applying;
  }

  private async applyOnce(): Promise<ApplyOutcome> {
    const outcome = await this.applier.apply();
    if (outcome === "reload-failed" || outcome === "io-failed") this.retryLater();
    else {
      this.retryTimer?.();
      this.retryTimer = undefined;
      this.retryBackoff.reset();
    }
    this.events.emit("applied", outcome, this.applier.current);
    return outcome;
  }

  /** Nothing may change for a while (nginx stopped, disk full): try again by ourselves, backing off. */
  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = this.scheduler.after(this.retryBackoff.next(), () => {
      this.retryTimer = undefined;
      void this.applyNow();
    }, { keepAlive: true });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.debounce.stop();
    this.retryTimer?.();
    await this.dirWatch.close();
    await this.applying?.catch(() => {});
  }
}
