// The reset schedules of shared demos: each cron expression (in its time zone) on the scheduler, and a reset missed while the controller was down.
import { CronTime } from "cron";
import type { Config } from "../config/load.js";
import type { DemoEngine } from "../core/engine.js";
import { describeError } from "../core/errors.js";
import type { Cancel, Scheduler } from "../core/scheduler.js";
import type { Logger } from "../logger.js";

export interface SharedSchedules {
  nextResetAt(name: string): number | undefined;
  close(): void;
}

/** Timers are armed at most a day ahead and then measured again: far dates stay exact across clock changes. */
const LONGEST_WAIT_MS = 86_400_000;

export function startSharedSchedules(config: Config, engine: DemoEngine, logger: Logger, scheduler: Scheduler): SharedSchedules {
  const next = new Map<string, number>();
  const timers = new Map<string, Cancel>();
  let closed = false;
  const reset = (name: string, trigger: "scheduled" | "missed") => {
    try {
      engine.shared.requestReset(name, trigger);
    } catch (error) {
      logger.warn(`the ${trigger} reset of shared demo ${name} could not start: ${describeError(error)}`);
    }
  };
  const nextAfter = (cron: CronTime, zone: string | undefined, from: number) => cron.getNextDateFrom(new Date(from), zone).toMillis();
  const arm = (name: string, cron: CronTime, zone: string | undefined) => {
    if (closed) return;
    const due = next.get(name)!;
    timers.set(name, scheduler.after(Math.min(LONGEST_WAIT_MS, Math.max(0, due - scheduler.now())), () => {
      if (scheduler.now() >= due) {
        reset(name, "scheduled");
        next.set(name, nextAfter(cron, zone, Math.max(due, scheduler.now())));
      }
      arm(name, cron, zone);
    }));
  };
  for (const [name, shared] of Object.entries(config.shared)) {
    if (!shared.reset) continue;
    const cron = new CronTime(shared.reset, shared.timeZone);
    next.set(name, nextAfter(cron, shared.timeZone, scheduler.now()));
    arm(name, cron, shared.timeZone);
    const last = engine.shared.lastResetAt.get(name);
    // The first time after the last reset that the schedule named, if it is already past, was missed.
    if (last !== undefined && nextAfter(cron, shared.timeZone, last) <= scheduler.now()) {
      logger.info(`shared demo ${name} missed a scheduled reset while the controller was down; resetting it now`);
      reset(name, "missed");
    }
  }
  return {
    nextResetAt: (name) => next.get(name),
    close: () => {
      closed = true;
      timers.forEach((cancel) => cancel());
    },
  };
}
