// `stop <id>`: ends a demo and removes its containers; `stop --all` ends every live demo and removes the spare
// containers (warm pools, created ahead) until the controller restarts (the package's removal asks for it).
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { stdout, type Output } from "../output.js";
import type { Config } from "../../config/load.js";
import { ApiError, callApi } from "../api-client.js";
import { UsageError, describeError } from "../../core/errors.js";
import type { DemoView } from "../../api/views.js";

export function defineStop(program: Command, cli: CliContext): void {
  program
    .command("stop")
    .description("stop a demo and remove its container; --all stops every live demo and removes the warm pools' and created-ahead containers (none is made again until the controller restarts)")
    .argument("[id]", "demo id")
    .option("--all", "stop every live demo of this controller, and remove its spare containers")
    .action(cli.withConfig((config, id: string | undefined, options: { all?: boolean }) => (options.all ? runStopAll(config, id, cli.out) : runStop(config, id, cli.out)), { client: true }));
}

export async function runStop(config: Config, id: string | undefined, out: Output = stdout): Promise<number> {
  if (!id) throw new UsageError("stop: name a demo id, or give --all to stop every live demo");
  await callApi(config, "DELETE", `/api/demos/${encodeURIComponent(id)}`);
  out.line(`stopped ${id}`);
  return 0;
}

/** Every live demo, one at a time (one that cannot be stopped is named and the rest still go), then the spares. */
export async function runStopAll(config: Config, id: string | undefined, out: Output = stdout): Promise<number> {
  if (id) throw new UsageError(`stop: give a demo id or --all, not both (got ${id} and --all)`);
  const { data } = await callApi(config, "GET", "/api/demos");
  let failed = 0;
  for (const demo of (data as { demos: DemoView[] }).demos) {
    try {
      await callApi(config, "DELETE", `/api/demos/${encodeURIComponent(demo.id)}`);
      out.line(`stopped ${demo.id}`);
    } catch (error) {
      // Gone meanwhile (its time ran out) is what was asked for.
      if (error instanceof ApiError && error.status === 404) continue;
      failed += 1;
      out.line(`could not stop ${demo.id}: ${describeError(error)}`);
    }
  }
  try {
    const { data } = await callApi(config, "DELETE", "/api/spares");
    const removed = (data as { removed: number }).removed;
    if (removed > 0) out.line(`removed ${removed} spare container(s) (warm pools, created ahead); none is made again until the controller restarts`);
  } catch (error) {
    // A controller from before 0.2.0 has no such call (and no containers created ahead).
    if (!(error instanceof ApiError && error.status === 404)) {
      failed += 1;
      out.line(`could not remove the spare containers: ${describeError(error)}`);
    }
  }
  return failed === 0 ? 0 : 1;
}
