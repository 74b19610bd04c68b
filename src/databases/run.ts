// The state-source restorer on the container runtime: each step one command in the demo's container, its failure in the tool's words.
import type { ContainerRuntime } from "../core/runtime.js";
import { RestoreFailure, type DumpSource, type DumpTarget, type StateRestorer } from "../core/state/state-sources.js";
import { restoreMariadb } from "./mariadb.js";
import { restorePostgres } from "./postgres.js";

/** Runs one command (an argument array) and answers its output; throws RestoreFailure when it fails. */
export type RunInContainer = (argv: string[]) => Promise<string>;

/** The last lines of a tool's output: where psql and mariadb say what went wrong. */
function lastLines(output: string): string {
  return output.trim().split("\n").slice(-6).join("\n").slice(-1500);
}

/** Runs commands in the container of `target`'s database as its administrator (each failure a RestoreFailure in the tool's words). */
export function runnerFor(runtime: ContainerRuntime, containerId: string, target: DumpTarget): RunInContainer {
  const exec = runtime.exec?.bind(runtime);
  if (!exec) throw new RestoreFailure("this container runtime cannot run commands inside containers");
  const env: Record<string, string> = target.password ? (target.driver === "postgres" ? { PGPASSWORD: target.password } : { MYSQL_PWD: target.password }) : {};
  // PostgreSQL's peer authentication wants the OS user to be the database user.
  const osUser = target.driver === "postgres" ? target.user ?? "postgres" : undefined;
  return async (argv) => {
    const result = await exec(containerId, { argv, env, timeoutMs: target.timeout, ...(osUser ? { user: osUser } : {}), ...(target.service ? { service: target.service } : {}) });
    if (result.exitCode !== 0) throw new RestoreFailure(`${argv[0] === "sh" ? argv[3] : argv[0]} failed${result.timedOut ? " (timed out)" : ` (exit ${result.exitCode})`}: ${lastLines(result.output) || "no output"}`);
    return result.output;
  };
}

export class DumpRestorer implements StateRestorer {
  constructor(private readonly runtime: ContainerRuntime) {}

  async restore(containerId: string, source: DumpSource): Promise<void> {
    const run = runnerFor(this.runtime, containerId, source);
    if (source.driver === "postgres") await restorePostgres(run, source);
    else await restoreMariadb(run, source);
  }
}
