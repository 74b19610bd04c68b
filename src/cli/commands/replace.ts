// `replace <id>`: a ready demo's container replaced with zero downtime (admin), optionally followed to its outcome.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import type { DemoView } from "../../api/views.js";
import { systemScheduler } from "../../clock/system-scheduler.js";
import { parseWaitSeconds } from "../context.js";

export function defineReplace(program: Command, cli: CliContext): void {
  program
    .command("replace")
    .summary("replace a ready demo's container with zero downtime (admin); the old one serves until the new one answers")
    .description("replace a ready demo's container with zero downtime (admin; see docs/guides/replacement.md): the old one serves until the new one answers; with --wait, exits 1 when it failed")
    .argument("<id>", "demo id")
    .option("--image <image>", "image of the new instance (default: the app's configured image, as Docker has it now)")
    .option("--wait <seconds>", "wait until the replacement succeeded or failed", parseWaitSeconds)
    .action(cli.withConfig((config, id: string, options: { image?: string; wait?: number }) => runReplace(config, id, options, cli.out), { client: true }));
}

/** Starts a replacement; with --wait, follows it and exits non-zero when it failed (the old instance serves on). */
export async function runReplace(config: Config, id: string, options: { image?: string; wait?: number }, out: Output = stdout): Promise<number> {
  const { data } = await callApi(config, "POST", `/api/demos/${encodeURIComponent(id)}/replace`, options.image ? { image: options.image } : {});
  let view = data as DemoView;
  const image = view.replacement?.image ?? options.image ?? "";
  if (options.wait) {
    const deadline = systemScheduler.now() + options.wait * 1000;
    while (view.replacement?.status === "running" && systemScheduler.now() < deadline) {
      await systemScheduler.sleep(250);
      view = (await callApi(config, "GET", `/api/demos/${encodeURIComponent(id)}`)).data as DemoView;
    }
  }
  const outcome = view.replacement;
  if (!options.wait || !outcome) out.line(`replacing ${id} with ${image}; follow it with \`demo-launcher ls\` or GET /api/demos/${id}`);
  else if (outcome.status === "succeeded") out.line(`replaced ${id}: now served by ${outcome.image}`);
  else if (outcome.status === "failed") out.line(`replacing ${id} failed, the old instance keeps serving: ${outcome.reason ?? "no reason given"}`);
  else out.line(`replacing ${id} is still running after ${options.wait}s`);
  return outcome?.status === "failed" || (options.wait && outcome?.status === "running") ? 1 : 0;
}
