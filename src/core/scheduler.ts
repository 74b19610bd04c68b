// The one way time enters the controller: now, sleeps, one-off and repeating timers; and a manual one for tests.
// Production passes the system scheduler (src/clock/); every loop and wait of ours takes this interface, so a test
// moves time with advance() instead of sleeping, and nothing of ours runs on a wall-clock timer of its own.

/** Stops a timer; safe to call twice and after it fired. */
export type Cancel = () => void;

export interface TimerOptions {
  /** False (the default) lets the process exit while only this timer is pending: background loops must not hold it. */
  keepAlive?: boolean;
}

export interface Scheduler {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (callers look at the signal to tell which). Keeps the process alive. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` once after `ms`. */
  after(ms: number, fn: () => void, options?: TimerOptions): Cancel;
  /**
   * Calls `fn` every `ms`; when it returns a promise the next call is `ms` after it settles, so a slow pass never
   * overlaps the next. A throw or rejection is the callback's own to report: the loop goes on.
   */
  every(ms: number, fn: () => unknown, options?: TimerOptions): Cancel;
}

/** Runs `fn` every `ms` through `after`: written once for both schedulers. */
export function repeatWith(after: (ms: number, fn: () => void, options?: TimerOptions) => Cancel, ms: number, fn: () => unknown, options?: TimerOptions): Cancel {
  let stopped = false;
  let cancel: Cancel = () => {};
  const arm = () => {
    if (stopped) return;
    cancel = after(ms, () => {
      let result: unknown;
      try {
        result = fn();
      } catch {
        // the callback reports its own failures; the loop goes on
      }
      if (result instanceof Promise) void result.catch(() => {}).finally(arm);
      else arm();
    }, options);
  };
  arm();
  return () => {
    stopped = true;
    cancel();
  };
}

interface Pending {
  due: number;
  order: number;
  fire: () => void;
}

/**
 * Time that moves only when a test says so. advance(ms) fires every timer due within ms in order of due time,
 * letting the work each one wakes run to its next wait before the next fires, as real time would.
 */
export class ManualScheduler implements Scheduler {
  private time: number;
  private readonly pending = new Set<Pending>();
  private order = 0;
  /** Bumped by every call: settle() knows work is still going on while it moves. */
  private activity = 0;

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const cancel = this.after(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      const onAbort = () => {
        cancel();
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  after(ms: number, fn: () => void): Cancel {
    this.activity += 1;
    const entry: Pending = { due: this.time + Math.max(0, ms), order: (this.order += 1), fire: fn };
    this.pending.add(entry);
    return () => {
      this.activity += 1;
      this.pending.delete(entry);
    };
  }

  every(ms: number, fn: () => unknown): Cancel {
    return repeatWith((delay, callback) => this.after(delay, callback), ms, fn);
  }

  /** How many timers wait (a test proves "nothing more will happen" by this being 0 after settle()). */
  get waiting(): number {
    return this.pending.size;
  }

  /** When the next timer fires, or undefined when none waits. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const entry of this.pending) if (next === undefined || entry.due < next) next = entry.due;
    return next;
  }

  /**
   * Lets every piece of work that can run without time passing run: loops through the event loop until three turns
   * in a row neither armed nor cancelled a timer. The in-memory edges answer within turns, so this ends.
   */
  async settle(): Promise<void> {
    for (let quiet = 0; quiet < 3; ) {
      const before = this.activity;
      await new Promise<void>((resolve) => setImmediate(resolve));
      quiet = this.activity === before ? quiet + 1 : 0;
    }
  }

  /** Moves time forward by `ms`, firing what falls due on the way, each in turn after the work before it settled. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.time + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await this.settle();
    for (;;) {
      const next = this.firstDue();
      if (!next || next.due > target) break;
      this.pending.delete(next);
      this.time = Math.max(this.time, next.due);
      this.activity += 1;
      next.fire();
      await this.settle();
    }
    this.time = Math.max(this.time, target);
    await this.settle();
  }

  /**
   * Moves time from timer to timer until `task` settles, and answers what it answered. Throws when the task still
   * waits but no timer is left (it waits on something time cannot bring), or after `limitMs` of simulated time.
   */
  async runUntil<T>(task: Promise<T>, limitMs = 24 * 3_600_000): Promise<T> {
    let done = false;
    const watched = task.finally(() => {
      done = true;
    });
    watched.catch(() => {});
    const limit = this.time + limitMs;
    await this.settle();
    while (!done) {
      const next = this.nextDue();
      if (next === undefined) throw new Error("runUntil: the task still waits and no timer is left to fire");
      if (next > limit) throw new Error(`runUntil: the task still waits after ${limitMs} ms of scheduled time`);
      await this.advanceTo(next);
    }
    return watched;
  }

  private firstDue(): Pending | undefined {
    let first: Pending | undefined;
    for (const entry of this.pending) if (!first || entry.due < first.due || (entry.due === first.due && entry.order < first.order)) first = entry;
    return first;
  }
}
