// The state-source restorer on the container runtime: each step one command in the demo's container, its failure in the tool's words.
import type { ContainerRuntime } from "../core/runtime.js";
import { RestoreFailure, type DumpSource, type StateRestorer } from "../core/state/state-sources.js";
import { restoreMariadb } from "./mariadb.js";
import { restorePostgres } from "./postgres.js";

/** Runs one command (an argument array) and answers its output; throws RestoreFailure when it fails. */
export type RunInContainer = (argv: string[]) => Promise<string>;

/** The last lines of a tool's output: where psql and mariadb say what went wrong. */
function lastLines(output: string): string {
  return output.trim().split("\n").slice(-6).join("\n").slice(-1500);
}

export class DumpRestorer implements StateRestorer {
  constructor(private readonly runtime: ContainerRuntime) {}

  async restore(containerId: string, source: DumpSource): Promise<void> {
    const exec = this.runtime.exec?.bind(this.runtime);
    if (!exec) throw new RestoreFailure("this container runtime cannot run commands inside containers");
    const env: Record<string, string> = source.password ? (source.driver === "postgres" ? { PGPASSWORD: source.password } : { MYSQL_PWD: source.password }) : {};
    // PostgreSQL's peer authentication wants the OS user to be the database user.
    const osUser = source.driver === "postgres" ? source.user ?? "postgres" : undefined;
    const run: RunInContainer = async (argv) => {
      const result = await exec(containerId, { argv, env, timeoutMs: source.timeout, ...(osUser ? { user: osUser } : {}), ...(source.service ? { service: source.service } : {}) });
      if (result.exitCode !== 0) throw new RestoreFailure(`${argv[0] === "sh" ? argv[3] : argv[0]} failed${result.timedOut ? " (timed out)" : ` (exit ${result.exitCode})`}: ${lastLines(result.output) || "no output"}`);
      return result.output;
    };
    if (source.driver === "postgres") await restorePostgres(run, source);
    else await restoreMariadb(run, source);
  }
}
