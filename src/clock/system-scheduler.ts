// The scheduler on the real clock: the only place in src/ that calls setTimeout or reads Date.now (a test keeps it so).
import { repeatWith, type Cancel, type Scheduler, type TimerOptions } from "../core/scheduler.js";

export class SystemScheduler implements Scheduler {
  now(): number {
    return Date.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  after(ms: number, fn: () => void, options: TimerOptions = {}): Cancel {
    const timer = setTimeout(fn, ms);
    if (!options.keepAlive) timer.unref();
    return () => clearTimeout(timer);
  }

  every(ms: number, fn: () => unknown, options: TimerOptions = {}): Cancel {
    return repeatWith((delay, callback) => this.after(delay, callback, options), ms, fn);
  }
}

/** The real clock, for edges built without a scheduler passed in (the CLI's one-shot commands). */
export const systemScheduler: Scheduler = new SystemScheduler();
