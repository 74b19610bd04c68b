// `rewind <id> [source]`: a demo's database back to a state source (admin), optionally followed to its end.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import type { JobView } from "../../api/views.js";
import { parseWaitSeconds } from "../context.js";
import { followJob, waitSecondsOf } from "../job-words.js";

export function defineRewind(program: Command, cli: CliContext): void {
  program
    .command("rewind")
    .summary("bring a demo's database back to one of its app's state sources (admin); answers with a job")
    .description("bring a demo's database back to one of its app's state sources (admin; see docs/guides/databases-and-rewinds.md); answers with a job; with --wait, exits 1 when it failed")
    .argument("<id>", "demo id")
    .argument("[source]", "state source name (default: the app's default source)")
    .option("--wait [seconds]", "wait until the rewind is done or failed (default 600 s)", parseWaitSeconds)
    .action(cli.withConfig((config, id: string, source: string | undefined, options: { wait?: number | boolean }) => runRewind(config, id, source, options, cli.out), { client: true }));
}

/** Exits 0 when the rewind is done (or started, without --wait), 1 when it failed or was still running at the deadline. */
export async function runRewind(config: Config, id: string, source: string | undefined, options: { wait?: number | boolean }, out: Output = stdout): Promise<number> {
  const waitSeconds = waitSecondsOf(options.wait);
  const job = await followJob(config, (await callApi(config, "POST", `/api/demos/${encodeURIComponent(id)}/rewind`, source ? { source } : {})).data as JobView, waitSeconds);
  const took = job.durationMs !== undefined ? ` in ${(job.durationMs / 1000).toFixed(1)} s` : "";
  if (job.status === "done") out.line(`rewound ${id} to ${job.source}${took}`);
  else if (job.status === "failed") out.line(`rewinding ${id} to ${job.source} failed; the demo keeps its previous state: ${job.reason ?? "no reason given"}`);
  else if (!waitSeconds) out.line(`rewinding ${id} to ${job.source}: job ${job.id}; follow it with GET /api/jobs/${job.id} or add --wait`);
  else out.line(`rewinding ${id} to ${job.source} is still ${job.status} after ${waitSeconds} s (job ${job.id})`);
  return job.status === "failed" || (waitSeconds > 0 && job.status !== "done") ? 1 : 0;
}
