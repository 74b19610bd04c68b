// Runs the engine's reaper every interval on the scheduler; a failing pass is logged and the next one runs anyway.
import { describeError } from "../core/errors.js";
import type { Scheduler } from "../core/scheduler.js";
import { singleFlight } from "../core/single-flight.js";
import type { Logger } from "../logger.js";

export interface Reaper {
  stop(): Promise<void>;
}

/**
 * A pass every `intervalMs`, counted from the end of the last one: a slow pass (Docker busy) never piles up behind
 * itself. `lag` hears how late each pass started against when it was due (a blocked event loop shows there).
 */
export function startReaper(scheduler: Scheduler, intervalMs: number, pass: () => Promise<void>, logger: Logger, lag?: (seconds: number) => void): Reaper {
  const once = singleFlight(() => pass().catch((error) => logger.error(`reaper: ${describeError(error)}`)));
  let last: Promise<void> = Promise.resolve();
  let stopped = false;
  let cancel = () => {};
  const arm = () => {
    if (stopped) return;
    const due = scheduler.now() + intervalMs;
    cancel = scheduler.after(intervalMs, () => {
      lag?.(Math.max(0, scheduler.now() - due) / 1000);
      last = once();
      void last.finally(arm);
    });
  };
  arm();
  return {
    async stop() {
      stopped = true;
      cancel();
      await last;
    },
  };
}
