// `extend <id> <duration>`: more time for a live demo (admin); a bad duration is refused in the CLI's words.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { callApi } from "../api-client.js";
import { UsageError } from "../../core/errors.js";
import { formatDuration, parseDuration } from "../../core/duration.js";

export function defineExtend(program: Command, cli: CliContext): void {
  program
    .command("extend")
    .summary("give a live demo more time (admin)")
    .description("give a live demo more time (admin; at most 24h at once and 48h left); a shared demo has no time box")
    .argument("<id>", "demo id")
    .argument("<duration>", "how much more, for example 10m or 1h (at most 24h)")
    .action(cli.withConfig((config, id: string, by: string) => runExtend(config, id, by, cli.out), { client: true }));
}

export async function runExtend(config: Config, id: string, by: string, out: Output = stdout): Promise<number> {
  // Said in the CLI's words before any call: the API would answer about its JSON body.
  if (parseDuration(by) === undefined) throw new UsageError(`extend: ${JSON.stringify(by)} is not a duration; give a number and a unit (s, m, h, d), such as 30m or 2h`);
  const { data } = await callApi(config, "POST", `/api/demos/${encodeURIComponent(id)}/extend`, { by });
  const demo = data as { secondsLeft: number; expiresAt: string };
  out.line(`extended ${id}: ${formatDuration(demo.secondsLeft * 1000)} left (until ${demo.expiresAt})`);
  return 0;
}
