// `logs <id>`: the last lines a demo's container wrote (admin).
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";

export function defineLogs(program: Command, cli: CliContext): void {
  program
    .command("logs")
    .summary("print the last lines a demo's container wrote (admin)")
    .description("print the last lines a demo's container wrote (admin; GET /api/demos/:id/logs?lines=N, capped at 256 kB)")
    .argument("<id>", "demo id")
    .option("--lines <n>", "how many lines, 1 to 1000 (default 200)", (value: string) => Number(value))
    .action(cli.withConfig((config, id: string, options: { lines?: number }) => runLogs(config, id, options, cli.out), { client: true }));
}

/** The last lines a demo's container printed (admin). */
export async function runLogs(config: Config, id: string, options: { lines?: number }, out: Output = stdout): Promise<number> {
  const { data } = await callApi(config, "GET", `/api/demos/${encodeURIComponent(id)}/logs?lines=${options.lines ?? 200}`, undefined, "text");
  out.write(String(data));
  return 0;
}
