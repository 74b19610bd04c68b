// `preview <source> <branch|commit>`: a build of a preview source served at its preview host (admin).
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import type { BuildView } from "../../api/views.js";
import { systemScheduler } from "../../clock/system-scheduler.js";
import { parseWaitSeconds } from "../context.js";
import { buildLine, FINISHED } from "../build-words.js";

const COMMIT = /^[0-9a-f]{7,40}$/;

export function definePreview(program: Command, cli: CliContext): void {
  program
    .command("preview")
    .summary("build a branch or commit of a preview source and serve it at its preview host (admin)")
    .description("build a branch or commit of a preview source and serve it at its preview host (admin; see docs/guides/previews.md); an unknown branch is refused with the closest ones")
    .argument("<source>", "a source under previews: in the config")
    .argument("<ref>", "a branch name, or a commit (7 to 40 hex digits)")
    .option("--json", "print the build as JSON")
    .option("--wait <seconds>", "wait until the build is ready or failed", parseWaitSeconds)
    .action(cli.withConfig((config, source: string, ref: string, options: { wait?: number; json?: boolean }) => runPreview(config, source, ref, options, cli.out), { client: true }));
}

/** A ref of 7 to 40 hex digits is a commit; anything else is a branch (git's rules are checked by the controller). */
export async function runPreview(config: Config, source: string, ref: string, options: { wait?: number; json?: boolean }, out: Output = stdout): Promise<number> {
  const body = COMMIT.test(ref) ? { source, commit: ref } : { source, branch: ref };
  let build = (await callApi(config, "POST", "/api/builds", body)).data as BuildView;
  const deadline = systemScheduler.now() + (options.wait ?? 0) * 1000;
  while (options.wait && !FINISHED.has(build.state) && systemScheduler.now() < deadline) {
    await systemScheduler.sleep(500);
    build = (await callApi(config, "GET", `/api/builds/${build.id}`)).data as BuildView;
  }
  out.line(options.json ? JSON.stringify(build, null, 2) : buildLine(build));
  return build.state === "failed" || build.state === "timed-out" || build.state === "cancelled" ? 1 : 0;
}
