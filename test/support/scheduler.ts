// The system scheduler with its waits counted: a test proves "this did not happen" by letting the controller's own
// loops go round a number of times (an event that did happen), not by sleeping.
import type { Cancel, TimerOptions } from "../../src/core/scheduler.js";
import { SystemScheduler } from "../../src/clock/system-scheduler.js";

export class CountingScheduler extends SystemScheduler {
  private ended = 0;
  private readonly waiting = new Set<{ at: number; resolve: () => void }>();

  private count(): void {
    this.ended += 1;
    for (const waiter of this.waiting) if (this.ended >= waiter.at) (this.waiting.delete(waiter), waiter.resolve());
  }

  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return super.sleep(ms, signal).finally(() => this.count());
  }

  override after(ms: number, fn: () => void, options?: TimerOptions): Cancel {
    return super.after(ms, () => {
      fn();
      this.count();
    }, options);
  }

  /** Resolves once `count` more of the controller's waits (sleeps and timers) have ended than when called. */
  moreWaits(count: number): Promise<void> {
    return new Promise((resolve) => this.waiting.add({ at: this.ended + count, resolve }));
  }
}

/**
 * The system scheduler whose clock a test can move forward: `jump(ms)` adds to now() and fires at once every timer
 * and sleep that is then due, so an end hours away (a share link's) happens now, with real Docker and nginx around.
 */
export class JumpingScheduler extends SystemScheduler {
  private offset = 0;
  private readonly due = new Set<{ at: number; fire: () => void }>();

  override now(): number {
    return Date.now() + this.offset;
  }

  override after(ms: number, fn: () => void, options?: TimerOptions): Cancel {
    const entry = { at: this.now() + ms, fire: () => {} };
    const cancelReal = super.after(ms, () => entry.fire(), options);
    entry.fire = () => {
      this.due.delete(entry);
      cancelReal();
      fn();
    };
    this.due.add(entry);
    return () => {
      this.due.delete(entry);
      cancelReal();
    };
  }

  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const cancel = this.after(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, { keepAlive: true });
      const onAbort = () => {
        cancel();
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  jump(ms: number): void {
    this.offset += ms;
    const now = this.now();
    for (const entry of [...this.due].sort((a, b) => a.at - b.at)) if (entry.at <= now) entry.fire();
  }
}
