// `launch [app]`: a demo through the controller (an admin launch), optionally waiting until it is ready or failed.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import { Option } from "commander";
import type { DemoView } from "../../api/views.js";
import { systemScheduler } from "../../clock/system-scheduler.js";
import { parseWaitSeconds } from "../context.js";
import { timeLeft } from "../demo-words.js";

export function defineLaunch(program: Command, cli: CliContext): void {
  program
    .command("launch")
    .description("launch a demo through the controller")
    .argument("[app]", "app name (default: the first app in the config)")
    .option("--json", "print the demo as JSON")
    .addOption(new Option("--wait <seconds>", "wait until the demo is ready or failed").argParser(parseWaitSeconds))
    .action(cli.withConfig((config, app: string | undefined, options: { json?: boolean; wait?: number }) => runLaunch(config, app, options, cli.out), { client: true }));
}

async function waitForOutcome(config: Config, id: string, seconds: number): Promise<DemoView> {
  const deadline = systemScheduler.now() + seconds * 1000;
  for (;;) {
    const { data } = await callApi(config, "GET", `/api/demos/${id}`);
    const view = data as DemoView;
    if (view.status !== "starting" || systemScheduler.now() > deadline) return view;
    await systemScheduler.sleep(250);
  }
}

export async function runLaunch(config: Config, app: string | undefined, options: { json?: boolean; wait?: number }, out: Output = stdout): Promise<number> {
  const appName = app ?? Object.keys(config.apps)[0];
  const { data } = await callApi(config, "POST", "/api/demos", { app: appName });
  let view = data as DemoView;
  if (options.wait) view = await waitForOutcome(config, view.id, options.wait);
  if (options.json) out.line(JSON.stringify(view, null, 2));
  else out.line(`${view.id}  ${view.status}  ${view.url}  (${timeLeft(view)})${view.reason ? `\n  reason: ${view.reason}` : ""}`);
  return view.status === "failed" ? 1 : 0;
}
