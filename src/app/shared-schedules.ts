// The reset schedules of shared demos: one cron job each (in its time zone), and a reset missed while the controller was down.
import { CronJob, CronTime } from "cron";
import type { Config } from "../config/load.js";
import type { DemoEngine } from "../core/engine.js";
import { describeError } from "../core/errors.js";
import type { Logger } from "../logger.js";

export interface SharedSchedules {
  nextResetAt(name: string): number | undefined;
  close(): void;
}

export function startSharedSchedules(config: Config, engine: DemoEngine, logger: Logger): SharedSchedules {
  const jobs = new Map<string, CronJob>();
  const reset = (name: string, trigger: "scheduled" | "missed") => {
    try {
      engine.shared.requestReset(name, trigger);
    } catch (error) {
      logger.warn(`the ${trigger} reset of shared demo ${name} could not start: ${describeError(error)}`);
    }
  };
  for (const [name, shared] of Object.entries(config.shared)) {
    if (!shared.reset) continue;
    jobs.set(name, CronJob.from({ cronTime: shared.reset, timeZone: shared.timeZone, onTick: () => reset(name, "scheduled"), start: true }));
    const last = engine.shared.lastResetAt.get(name);
    // The first time after the last reset that the schedule named, if it is already past, was missed.
    if (last !== undefined && new CronTime(shared.reset, shared.timeZone).getNextDateFrom(new Date(last), shared.timeZone).toMillis() <= Date.now()) {
      logger.info(`shared demo ${name} missed a scheduled reset while the controller was down; resetting it now`);
      reset(name, "missed");
    }
  }
  return {
    nextResetAt: (name) => jobs.get(name)?.nextDate().toMillis(),
    close: () => jobs.forEach((job) => job.stop()),
  };
}
