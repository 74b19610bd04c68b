// Restores a SQL dump into MariaDB/MySQL inside a demo's container: loaded beside the live database, then swapped in with one atomic RENAME TABLE.
import { RestoreFailure, type DumpSource } from "../core/state-sources.js";
import type { RunInContainer } from "./run.js";

/** `db.table` pairs as the server lists them, backquoted with backquotes doubled (names come from the dump). */
function renameListQuery(from: string, to: string): string {
  const quoted = (column: string) => `REPLACE(${column},'\`','\`\`')`;
  return `SELECT CONCAT('\`${from}\`.\`',${quoted("TABLE_NAME")},'\` TO \`${to}\`.\`',${quoted("TABLE_NAME")},'\`') FROM information_schema.TABLES WHERE TABLE_SCHEMA='${from}' AND TABLE_TYPE='BASE TABLE'`;
}

export async function restoreMariadb(run: RunInContainer, source: DumpSource): Promise<void> {
  const client = source.driver === "mysql" ? "mysql" : "mariadb";
  const user = source.user ?? "root";
  const live = source.database;
  const loading = `${live}__rewind`;
  const retired = `${live}__old`;
  // Identifiers were checked by the config (letters, digits, _): safe inside backquotes.
  const sql = (statement: string, database?: string) => run([client, `--user=${user}`, "--batch", "--skip-column-names", ...(database ? [database] : []), "-e", statement]);
  const charset = (await sql(`SELECT CONCAT(DEFAULT_CHARACTER_SET_NAME,' ',DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='${live}'`)).trim().split(/\s+/);
  const collate = charset.length === 2 ? ` CHARACTER SET ${charset[0]} COLLATE ${charset[1]}` : "";
  await sql(`DROP DATABASE IF EXISTS \`${loading}\`; DROP DATABASE IF EXISTS \`${retired}\`; CREATE DATABASE \`${loading}\`${collate}`);
  try {
    // The dump goes in by the client's stdin: a shell only redirects; every value is a positional argument.
    await run(["sh", "-c", 'exec "$0" --user="$1" "$2" < "$3"', client, user, loading, source.file]);
    const renames = [...(await sql(renameListQuery(live, retired))).split("\n"), ...(await sql(renameListQuery(loading, live))).split("\n")].filter((line) => line.trim() !== "");
    if (!renames.some((line) => line.includes(`\`${loading}\`.`))) throw new RestoreFailure(`the dump ${source.file} made no tables`);
    // One RENAME TABLE moves every table at once: a request sees the old tables or the new ones, never a mix.
    await sql(`CREATE DATABASE \`${retired}\`; RENAME TABLE ${renames.join(", ")}`);
  } catch (error) {
    await sql(`DROP DATABASE IF EXISTS \`${loading}\`; DROP DATABASE IF EXISTS \`${retired}\``).catch(() => {});
    throw error;
  }
  await sql(`DROP DATABASE IF EXISTS \`${retired}\`; DROP DATABASE IF EXISTS \`${loading}\``);
}
