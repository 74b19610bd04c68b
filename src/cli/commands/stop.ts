// `stop <id>`: ends a demo and removes its containers.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";

export function defineStop(program: Command, cli: CliContext): void {
  program
    .command("stop")
    .description("stop a demo and remove its container")
    .argument("<id>", "demo id")
    .action(cli.withConfig((config, id: string) => runStop(config, id, cli.out), { client: true }));
}

export async function runStop(config: Config, id: string, out: Output = stdout): Promise<number> {
  await callApi(config, "DELETE", `/api/demos/${encodeURIComponent(id)}`);
  out.line(`stopped ${id}`);
  return 0;
}
