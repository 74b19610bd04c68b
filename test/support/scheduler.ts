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
