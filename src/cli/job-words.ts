// Rewinds and snapshots answer with a job: followed until it ends or the wait is over.
import type { JobView } from "../api/views.js";
import type { Config } from "../config/load.js";
import { callApi } from "./api-client.js";
import { systemScheduler } from "../clock/system-scheduler.js";

/** Follows a job until it ends or the wait is over. */
export async function followJob(config: Config, job: JobView, waitSeconds: number): Promise<JobView> {
  const deadline = systemScheduler.now() + waitSeconds * 1000;
  while (waitSeconds && (job.status === "queued" || job.status === "running") && systemScheduler.now() < deadline) {
    await systemScheduler.sleep(250);
    job = (await callApi(config, "GET", `/api/jobs/${encodeURIComponent(job.id)}`)).data as JobView;
  }
  return job;
}

export const waitSecondsOf = (wait: number | boolean | undefined) => (wait === true ? 600 : typeof wait === "number" ? wait : 0);
