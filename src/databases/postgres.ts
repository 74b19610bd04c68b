// Restores a SQL dump into PostgreSQL inside a demo's container: loaded once into a template, cloned, and swapped in by renaming.
import { createHash } from "node:crypto";
import { RestoreFailure, type DumpSource } from "../core/state/state-sources.js";
import type { RunInContainer } from "./run.js";

/**
 * `CREATE DATABASE … TEMPLATE` copies files instead of replaying SQL (0.6–1.1 s against 2.4 s for psql -f of a
 * 307 MB database): the dump is replayed once per container into a template, and every later rewind clones it.
 */
function templateName(source: DumpSource): string {
  return `${source.database}__t${createHash("sha256").update(`${source.file}\0${source.owner ?? ""}\0${source.scrub ?? ""}`).digest("hex").slice(0, 10)}`;
}

export async function restorePostgres(run: RunInContainer, source: DumpSource): Promise<void> {
  const user = source.user ?? "postgres";
  const live = source.database;
  const loading = `${live}__rewind`;
  const retired = `${live}__old`;
  const template = templateName(source);
  const owner = source.owner ? ` OWNER "${source.owner}"` : "";
  // Identifiers were checked by the config (letters, digits, _): safe inside double quotes.
  const psql = (database: string, ...commands: string[]) => run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", database, ...commands.flatMap((command) => ["-c", command])]);
  const exists = async (name: string) => (await psql("postgres", `SELECT 1 FROM pg_database WHERE datname = '${name}'`)).trim() === "1";
  if (!(await exists(template))) {
    await psql("postgres", `DROP DATABASE IF EXISTS "${template}__loading"`, `CREATE DATABASE "${template}__loading"${owner} TEMPLATE template0`);
    try {
      // One transaction: a dump that fails half-way leaves nothing behind, and the live database was never touched.
      // Replayed as the owner (SET ROLE), so the tables a plain dump creates belong to the app's role, as in the image.
      const replay = (file: string) => run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-U", user, "-d", `${template}__loading`, ...(source.owner ? ["-c", `SET ROLE "${source.owner}"`] : []), "-f", file]);
      await replay(source.file);
      // A preview's scrub runs on the loaded copy before it becomes the template: unscrubbed rows never go live.
      if (source.scrub) await replay(source.scrub).catch((error: Error) => Promise.reject(new RestoreFailure(`the scrub step failed: ${error.message}`)));
      await psql("postgres", `ALTER DATABASE "${template}__loading" RENAME TO "${template}"`, `ALTER DATABASE "${template}" ALLOW_CONNECTIONS false`);
    } catch (error) {
      await psql("postgres", `DROP DATABASE IF EXISTS "${template}__loading"`).catch(() => {});
      throw error;
    }
  }
  await psql("postgres", `DROP DATABASE IF EXISTS "${loading}"`, `DROP DATABASE IF EXISTS "${retired}"`, `CREATE DATABASE "${loading}"${owner} TEMPLATE "${template}"`, `ALTER DATABASE "${loading}" ALLOW_CONNECTIONS true`);
  try {
    // No new sessions, the open ones ended, then both renames in one transaction: the name always points at a whole database.
    await psql(
      "postgres",
      `ALTER DATABASE "${live}" ALLOW_CONNECTIONS false`,
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${live}' AND pid <> pg_backend_pid()`,
      `DO $$ BEGIN
         FOR attempt IN 1..100 LOOP
           BEGIN
             EXECUTE 'ALTER DATABASE "${live}" RENAME TO "${retired}"';
             EXECUTE 'ALTER DATABASE "${loading}" RENAME TO "${live}"';
             RETURN;
           EXCEPTION WHEN object_in_use THEN
             PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${live}' AND pid <> pg_backend_pid();
             PERFORM pg_sleep(0.02);
           END;
         END LOOP;
         RAISE EXCEPTION 'the database ${live} stayed in use for 2 s';
       END $$`,
    );
  } catch (error) {
    await psql("postgres", `ALTER DATABASE "${live}" ALLOW_CONNECTIONS true`, `DROP DATABASE IF EXISTS "${loading}"`).catch(() => {});
    throw error instanceof RestoreFailure ? error : new RestoreFailure(String(error));
  }
  await psql("postgres", `DROP DATABASE IF EXISTS "${retired}"`);
}
