// Coalescing on the scheduler, pure: the first poke after a quiet spell runs at once; pokes that follow close behind
// run together after `quietMs` of quiet, or at the latest `maxWaitMs` after the first of them.
import type { Cancel, Scheduler } from "../scheduler.js";

/** "At once" still leaves a few milliseconds: a writer's rename and its neighbour's arrive as one poke. */
const AT_ONCE_MS = 5;

export interface DebounceOptions {
  quietMs: number;
  maxWaitMs: number;
  /** True while the last run is still going: a poke then is "close behind", never "after a quiet spell". */
  busy: () => boolean;
  run: () => void;
}

export class Debounce {
  private timer: Cancel | undefined;
  private firstPendingAt = 0;
  private lastRunEndedAt = 0;
  private stopped = false;

  constructor(private readonly scheduler: Scheduler, private readonly options: DebounceOptions) {}

  /** Something changed: run soon, with whatever else changes meanwhile. */
  poke(): void {
    if (this.stopped) return;
    const now = this.scheduler.now();
    const quiet = !this.options.busy() && !this.timer && now - this.lastRunEndedAt > this.options.quietMs;
    if (!this.timer) this.firstPendingAt = now;
    this.timer?.();
    const delay = quiet ? AT_ONCE_MS : Math.max(0, Math.min(this.options.quietMs, this.firstPendingAt + this.options.maxWaitMs - now));
    // Held open: a process between a change and its run must not exit.
    this.timer = this.scheduler.after(delay, () => {
      this.timer = undefined;
      this.options.run();
    }, { keepAlive: true });
  }

  /** A run ended: the quiet spell is counted from now. */
  ran(): void {
    this.lastRunEndedAt = this.scheduler.now();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.();
    this.timer = undefined;
  }
}
