// Runs the engine's reaper on a cron schedule; a failing pass is logged and the next one runs anyway.
import { CronJob } from "cron";
import { describeError } from "../core/errors.js";
import { singleFlight } from "../core/single-flight.js";
import type { Logger } from "../logger.js";

/** A cron expression (with seconds) that fires every `intervalMs`, rounded to whole seconds or minutes. */
export function cronForInterval(intervalMs: number): string {
  const seconds = Math.max(1, Math.round(intervalMs / 1000));
  if (seconds < 60) return `*/${seconds} * * * * *`;
  const minutes = Math.min(59, Math.max(1, Math.round(seconds / 60)));
  return `0 */${minutes} * * * *`;
}

export interface Reaper {
  stop(): Promise<void>;
}

export function startReaper(intervalMs: number, pass: () => Promise<void>, logger: Logger, lag?: (seconds: number) => void): Reaper {
  // Ticks fall on whole seconds (or minutes): how far past one a tick runs is how late the reaper is.
  const unitMs = intervalMs < 60_000 ? 1000 : 60_000;
  // A slow pass (Docker busy) must not pile up behind itself: a tick during a pass joins it.
  const once = singleFlight(() => pass().catch((error) => logger.error(`reaper: ${describeError(error)}`)));
  let last: Promise<void> = Promise.resolve();
  const job = CronJob.from({
    cronTime: cronForInterval(intervalMs),
    start: true,
    onTick: () => {
      lag?.((Date.now() % unitMs) / 1000);
      last = once();
    },
  });
  return {
    async stop() {
      await job.stop();
      await last;
    },
  };
}
