// `logs <id> [service]`: the last lines a demo's container (or one service of its environment) wrote (admin).
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";

export function defineLogs(program: Command, cli: CliContext): void {
  program
    .command("logs")
    .summary("print the last lines a demo's container wrote (admin)")
    .description("print the last lines a demo's container wrote, or one service's of an environment (admin; GET /api/demos/:id/logs?lines=N&service=S, capped at 256 kB)")
    .argument("<id>", "demo id")
    .argument("[service]", "of an environment (a Compose app), the service whose lines to print (by default its routed one)")
    .option("--lines <n>", "how many lines, 1 to 1000 (default 200)", (value: string) => Number(value))
    .action(cli.withConfig((config, id: string, service: string | undefined, options: { lines?: number }) => runLogs(config, id, { ...options, ...(service ? { service } : {}) }, cli.out), { client: true }));
}

/** The last lines a demo's container printed (admin). */
export async function runLogs(config: Config, id: string, options: { lines?: number; service?: string }, out: Output = stdout): Promise<number> {
  const service = options.service ? `&service=${encodeURIComponent(options.service)}` : "";
  const { data } = await callApi(config, "GET", `/api/demos/${encodeURIComponent(id)}/logs?lines=${options.lines ?? 200}${service}`, undefined, "text");
  out.write(String(data));
  return 0;
}
