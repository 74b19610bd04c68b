// The CLI's rewind: `rewind <id> [source] [--wait]` starts one (the app's default source when none is named) and follows its job.
import { stdout, type Output } from "./output.js";
import type { JobView } from "../api/views.js";
import type { Config } from "../config/load.js";
import { callApi } from "./api-client.js";
import { systemScheduler } from "../clock/system-scheduler.js";


/** Follows a job until it ends or the wait is over. */
async function follow(config: Config, job: JobView, waitSeconds: number): Promise<JobView> {
  const deadline = systemScheduler.now() + waitSeconds * 1000;
  while (waitSeconds && (job.status === "queued" || job.status === "running") && systemScheduler.now() < deadline) {
    await systemScheduler.sleep(250);
    job = (await callApi(config, "GET", `/api/jobs/${encodeURIComponent(job.id)}`)).data as JobView;
  }
  return job;
}

const waitSecondsOf = (wait: number | boolean | undefined) => (wait === true ? 600 : typeof wait === "number" ? wait : 0);

/** `snapshot <id> <source> [--wait]`: saves the demo's container as the app's snapshot source. */
export async function runSnapshot(config: Config, id: string, source: string, options: { wait?: number | boolean }, out: Output = stdout): Promise<number> {
  const waitSeconds = waitSecondsOf(options.wait);
  const job = await follow(config, (await callApi(config, "POST", `/api/demos/${encodeURIComponent(id)}/snapshot`, { source })).data as JobView, waitSeconds);
  if (job.status === "done") out.line(`saved ${id} as snapshot ${source}; new demos of its app start from it when it is the default source`);
  else if (job.status === "failed") out.line(`saving ${id} as snapshot ${source} failed: ${job.reason ?? "no reason given"}`);
  else out.line(`saving ${id} as snapshot ${source}: job ${job.id}${waitSeconds ? ` still ${job.status} after ${waitSeconds} s` : "; add --wait to follow it"}`);
  return job.status === "failed" || (waitSeconds > 0 && job.status !== "done") ? 1 : 0;
}

/** Exits 0 when the rewind is done (or started, without --wait), 1 when it failed or was still running at the deadline. */
export async function runRewind(config: Config, id: string, source: string | undefined, options: { wait?: number | boolean }, out: Output = stdout): Promise<number> {
  const waitSeconds = waitSecondsOf(options.wait);
  const job = await follow(config, (await callApi(config, "POST", `/api/demos/${encodeURIComponent(id)}/rewind`, source ? { source } : {})).data as JobView, waitSeconds);
  const took = job.durationMs !== undefined ? ` in ${(job.durationMs / 1000).toFixed(1)} s` : "";
  if (job.status === "done") out.line(`rewound ${id} to ${job.source}${took}`);
  else if (job.status === "failed") out.line(`rewinding ${id} to ${job.source} failed; the demo keeps its previous state: ${job.reason ?? "no reason given"}`);
  else if (!waitSeconds) out.line(`rewinding ${id} to ${job.source}: job ${job.id}; follow it with GET /api/jobs/${job.id} or add --wait`);
  else out.line(`rewinding ${id} to ${job.source} is still ${job.status} after ${waitSeconds} s (job ${job.id})`);
  return job.status === "failed" || (waitSeconds > 0 && job.status !== "done") ? 1 : 0;
}
