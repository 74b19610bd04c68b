// `ls`: live demos as an aligned table with their kind and time left, or JSON.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import type { DemoView } from "../../api/views.js";
import { formatTable } from "../table.js";
import { timeLeft } from "../demo-words.js";

export function defineLs(program: Command, cli: CliContext): void {
  program
    .command("ls")
    .description("list live demos")
    .option("--json", "print JSON")
    .action(cli.withConfig((config, options: { json?: boolean }) => runList(config, options, cli.out), { client: true }));
}

export async function runList(config: Config, options: { json?: boolean }, out: Output = stdout): Promise<number> {
  const { data } = await callApi(config, "GET", "/api/demos");
  const demos = (data as { demos: DemoView[] }).demos;
  if (options.json) {
    out.line(JSON.stringify(demos, null, 2));
    return 0;
  }
  if (demos.length === 0) out.line("no live demos");
  else out.line(formatTable(["ID", "KIND", "APP", "STATUS", "LEFT", "URL"], demos.map((demo) => [demo.id, demo.kind, demo.app, demo.status, timeLeft(demo), demo.url])));
  return 0;
}
