// Seeds previews' databases: the seed (a file of the commit, or a dump of a running database) copied into the
// database's container and restored there all or nothing by the dump restorer, scrubbed before it goes live.
import { createHash, randomBytes } from "node:crypto";
import type { ContainerRuntime } from "../core/runtime.js";
import type { Demo } from "../core/model.js";
import { RestoreFailure, type DumpTarget, type SeedLoad, type Seeder, type StateRestorer } from "../core/state/state-sources.js";
import { describeError } from "../core/errors.js";
import { runnerFor } from "./run.js";

/** Where seeds are copied to inside a database's container (and dumps written before they are copied out). */
const SEED_DIR = "/tmp/demo-launcher-seed";
/** A seed is fixtures, not a production database: past this it is refused rather than held in memory. */
export const MAX_SEED_BYTES = 512 * 1024 * 1024;

/** Reads one file of a commit of a preview source (its git mirror). */
export type CommitFileReader = (source: string, commit: string, file: string, maxBytes: number) => Promise<Buffer>;

export class DatabaseSeeder implements Seeder {
  constructor(private readonly runtime: ContainerRuntime, private readonly restorer: StateRestorer, private readonly commitFile: CommitFileReader) {}

  async seed(demo: Demo, containerId: string, load: SeedLoad): Promise<void> {
    const { writeFile } = this.runtime;
    if (!writeFile) throw new RestoreFailure("this container runtime cannot copy files into containers");
    const sql = load.from.kind === "file" ? await this.fileOfCommit(demo, load.from.path) : await this.dump(load.from.containerId, load.from.target);
    const scrub = load.scrub ? await this.fileOfCommit(demo, load.scrub) : undefined;
    // Named by content: the restorer keeps a template per file, and a changed seed or scrub makes a new one.
    const key = createHash("sha256").update(sql).update("\0").update(scrub ?? "").digest("hex").slice(0, 16);
    const file = `${SEED_DIR}/${key}.sql`;
    const scrubFile = `${SEED_DIR}/${key}-scrub.sql`;
    const service = load.target.service;
    await writeFile.call(this.runtime, containerId, { path: file, content: sql, service });
    if (scrub) await writeFile.call(this.runtime, containerId, { path: scrubFile, content: scrub, service });
    try {
      await this.restorer.restore(containerId, { kind: "dump", ...load.target, file, ...(scrub ? { scrub: scrubFile } : {}) });
    } finally {
      // The database holds it now (as its template too): the copies would only take the container's disk.
      await runnerFor(this.runtime, containerId, load.target)(["rm", "-f", file, scrubFile]).catch(() => {});
    }
  }

  private async fileOfCommit(demo: Demo, file: string): Promise<Buffer> {
    const commit = demo.preview?.commit;
    if (!commit) throw new RestoreFailure(`the preview does not say which commit it serves, so ${file} cannot be read`);
    return this.commitFile(demo.app, commit, file, MAX_SEED_BYTES).catch((error: unknown) => Promise.reject(new RestoreFailure(describeError(error))));
  }

  /** The database's rows as SQL, by its own dump tool inside its container, without owners or grants (the loader sets its own). */
  private async dump(containerId: string, target: DumpTarget): Promise<Buffer> {
    const { readFile } = this.runtime;
    if (!readFile) throw new RestoreFailure("this container runtime cannot copy files out of containers");
    const run = runnerFor(this.runtime, containerId, target);
    const file = `${SEED_DIR}/dump-${randomBytes(6).toString("hex")}.sql`;
    const user = target.user ?? (target.driver === "postgres" ? "postgres" : "root");
    // Every value is a positional argument of the shell: never text inside the script.
    if (target.driver === "postgres") await run(["sh", "-c", 'mkdir -p "$(dirname "$3")" && exec "$0" --no-owner --no-privileges -U "$1" -d "$2" -f "$3"', "pg_dump", user, target.database, file]);
    else await run(["sh", "-c", 'mkdir -p "$(dirname "$3")" && exec "$0" --user="$1" --single-transaction --routines "$2" > "$3"', target.driver === "mysql" ? "mysqldump" : "mariadb-dump", user, target.database, file]);
    try {
      return await readFile.call(this.runtime, containerId, { path: file, service: target.service, maxBytes: MAX_SEED_BYTES });
    } finally {
      await run(["rm", "-f", file]).catch(() => {});
    }
  }
}
