// The system scheduler with its waits counted: a test proves "this did not happen" by letting the controller's own
// loops go round a number of times (an event that did happen), not by sleeping.
import { SystemScheduler } from "../../src/clock/system-scheduler.js";

export class CountingScheduler extends SystemScheduler {
  private sleeps = 0;
  private readonly waiting = new Set<{ at: number; resolve: () => void }>();

  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return super.sleep(ms, signal).finally(() => {
      this.sleeps += 1;
      for (const waiter of this.waiting) if (this.sleeps >= waiter.at) (this.waiting.delete(waiter), waiter.resolve());
    });
  }

  /** Resolves once the controller's flows have finished `count` more waits than when called. */
  moreSleeps(count: number): Promise<void> {
    return new Promise((resolve) => this.waiting.add({ at: this.sleeps + count, resolve }));
  }
}
