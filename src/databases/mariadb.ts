// Restores a SQL dump into MariaDB/MySQL inside a demo's container: loaded beside the live database, then swapped in with one atomic RENAME TABLE.
import { RestoreFailure, type DumpSource } from "../core/state/state-sources.js";
import type { RunInContainer } from "./run.js";

/** Two `docker exec` calls in all, the load and the swap: each costs tens of milliseconds, the load itself seconds. */
export async function restoreMariadb(run: RunInContainer, source: DumpSource): Promise<void> {
  const client = source.driver === "mysql" ? "mysql" : "mariadb";
  const user = source.user ?? "root";
  const live = source.database;
  const loading = `${live}__rewind`;
  const retired = `${live}__old`;
  // Identifiers were checked by the config (letters, digits, _): safe inside backquotes and quotes.
  const fresh = `DROP DATABASE IF EXISTS \`${loading}\`; DROP DATABASE IF EXISTS \`${retired}\`; CREATE DATABASE \`${loading}\``;
  const countTables = `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='${loading}'`;
  // A shell only chains the steps and redirects the dump to the client's stdin; every value is a positional argument.
  // A preview's scrub ($6) runs on the loaded copy before the swap: unscrubbed rows never go live.
  const script = 'set -e; "$0" --user="$1" -e "$4"; "$0" --user="$1" "$2" < "$3"; if [ -n "$6" ]; then "$0" --user="$1" "$2" < "$6" || { echo "the scrub step failed" >&2; exit 3; }; fi; "$0" --user="$1" --batch --skip-column-names -e "$5"';
  let tables: number;
  try {
    tables = Number((await run(["sh", "-c", script, client, user, loading, source.file, fresh, countTables, source.scrub ?? ""])).trim().split("\n").at(-1));
  } catch (error) {
    await run([client, `--user=${user}`, "-e", `DROP DATABASE IF EXISTS \`${loading}\``]).catch(() => {});
    throw error;
  }
  if (!(tables > 0)) {
    await run([client, `--user=${user}`, "-e", `DROP DATABASE IF EXISTS \`${loading}\``]).catch(() => {});
    throw new RestoreFailure(`the dump ${source.file} made no tables`);
  }
  // The server lists the renames itself (table names backquoted, backquotes doubled); one RENAME TABLE moves
  // every table at once, so a request sees the old tables or the new ones, never a mix.
  const pair = (from: string, to: string) => `SELECT CONCAT('\`${from}\`.\`',REPLACE(TABLE_NAME,'\`','\`\`'),'\` TO \`${to}\`.\`',REPLACE(TABLE_NAME,'\`','\`\`'),'\`') AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA='${from}' AND TABLE_TYPE='BASE TABLE'`;
  const swap = [
    "SET SESSION group_concat_max_len = 16777216",
    `CREATE DATABASE \`${retired}\``,
    `SELECT GROUP_CONCAT(x SEPARATOR ', ') INTO @demo_launcher_renames FROM (${pair(live, retired)} UNION ALL ${pair(loading, live)}) AS renames`,
    "SET @demo_launcher_rename = CONCAT('RENAME TABLE ', @demo_launcher_renames)",
    "PREPARE demo_launcher_rename FROM @demo_launcher_rename",
    "EXECUTE demo_launcher_rename",
    "DEALLOCATE PREPARE demo_launcher_rename",
  ].join("; ");
  try {
    await run([client, `--user=${user}`, "-e", swap]);
  } catch (error) {
    await run([client, `--user=${user}`, "-e", `DROP DATABASE IF EXISTS \`${loading}\`; DROP DATABASE IF EXISTS \`${retired}\``]).catch(() => {});
    throw error;
  }
  await run([client, `--user=${user}`, "-e", `DROP DATABASE IF EXISTS \`${retired}\`; DROP DATABASE IF EXISTS \`${loading}\``]);
}
