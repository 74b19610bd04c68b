// `snapshot <id> <source>`: a ready demo's container saved as a snapshot source of its app (admin).
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import type { JobView } from "../../api/views.js";
import { parseWaitSeconds } from "../context.js";
import { followJob, waitSecondsOf } from "../job-words.js";

export function defineSnapshot(program: Command, cli: CliContext): void {
  program
    .command("snapshot")
    .description("save a ready demo's container as a snapshot source of its app (admin); answers with a job")
    .argument("<id>", "demo id")
    .argument("<source>", "a state source of kind snapshot")
    .option("--wait [seconds]", "wait until it is saved or failed (default 600 s)", parseWaitSeconds)
    .action(cli.withConfig((config, id: string, source: string, options: { wait?: number | boolean }) => runSnapshot(config, id, source, options, cli.out), { client: true }));
}

/** `snapshot <id> <source> [--wait]`: saves the demo's container as the app's snapshot source. */
export async function runSnapshot(config: Config, id: string, source: string, options: { wait?: number | boolean }, out: Output = stdout): Promise<number> {
  const waitSeconds = waitSecondsOf(options.wait);
  const job = await followJob(config, (await callApi(config, "POST", `/api/demos/${encodeURIComponent(id)}/snapshot`, { source })).data as JobView, waitSeconds);
  if (job.status === "done") out.line(`saved ${id} as snapshot ${source}; new demos of its app start from it when it is the default source`);
  else if (job.status === "failed") out.line(`saving ${id} as snapshot ${source} failed: ${job.reason ?? "no reason given"}`);
  else out.line(`saving ${id} as snapshot ${source}: job ${job.id}${waitSeconds ? ` still ${job.status} after ${waitSeconds} s` : "; add --wait to follow it"}`);
  return job.status === "failed" || (waitSeconds > 0 && job.status !== "done") ? 1 : 0;
}
