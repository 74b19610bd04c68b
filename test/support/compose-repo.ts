// A git repository of a Compose app for the preview tests: web and db each built from a context of their own (FROM the sample image), db keeping rows in its named volume; web asks db for them by name.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";

/**
 * web: built from its context, told its commit, started once db is healthy (both repositories' files have it). Only
 * web publishes a port, so it is the routed service without any route in the config.
 */
const WEB_SERVICE = `  web:
    build: { context: web }
    # httpd as PID 1 ignores SIGTERM: with an init, a replaced or removed web stops at once.
    init: true
    environment:
      COMMIT: \${DEMO_COMMIT}
    ports: ["8080:8080"]
    depends_on:
      db: { condition: service_healthy }
`;

/** Docker's checks of db every 2 s, the controller's every 300 ms while db starts (start_interval; see compose-project.ts). */
const DB_CHECK_TIMING = "      interval: 2s\n      start_period: 1m\n      start_interval: 300ms\n";

export const COMPOSE_REPO_FILE = `
services:
${WEB_SERVICE}  db:
    build: { context: db, args: { GREETING: rows } }
    init: true
    volumes: [rows:/rows]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/greeting.txt"]
${DB_CHECK_TIMING}      retries: 100
volumes:
  rows:
`;

/** A CGI script answering plain text. */
export const cgi = (body: string) => `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n${body}\n`;

/** web's page: its version, the commit it serves and db's rows. */
export const webPage = (version: string) => cgi(`echo "web ${version} at $COMMIT"\necho "rows: $(wget -q -O - http://db:8080/cgi-bin/rows.cgi)"`);

export interface ComposeRepo {
  dir: string;
  write(file: string, text: string, mode?: number): Promise<void>;
  /** Commits everything; answers the commit's id. */
  commit(message: string): Promise<string>;
}

/** The repository in `dir`, with its first commit made. */
export async function makeComposeRepo(dir: string): Promise<ComposeRepo> {
  const repo = composeRepoAt(dir);
  await mkdir(dir, { recursive: true });
  await repo.write("compose.yaml", COMPOSE_REPO_FILE);
  await repo.write("web/Dockerfile", `FROM ${SAMPLE_IMAGE}\nCOPY cgi-bin /srv/cgi-bin\nCMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/srv"]\n`);
  await repo.write("web/cgi-bin/index.cgi", webPage("one"), 0o755);
  await repo.write("web/cgi-bin/flag.cgi", cgi('echo "flag=$FLAG"'), 0o755);
  await repo.write("web/cgi-bin/add.cgi", cgi('wget -q -O - "http://db:8080/cgi-bin/add.cgi?$QUERY_STRING"'), 0o755);
  await repo.write("db/Dockerfile", `FROM ${SAMPLE_IMAGE}\nARG GREETING\nCOPY cgi-bin /srv/cgi-bin\nUSER 0\nRUN mkdir -p /rows && chown 65534:65534 /rows && echo "$GREETING" > /srv/greeting.txt\nUSER 65534:65534\nCMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/srv"]\n`);
  await repo.write("db/cgi-bin/rows.cgi", cgi("cat /rows/list 2>/dev/null | tr '\\n' ' '"), 0o755);
  await repo.write("db/cgi-bin/add.cgi", cgi('echo "$QUERY_STRING" >> /rows/list\necho added'), 0o755);
  await repo.init();
  return repo;
}

/**
 * A repository whose db is the compose example's PostgreSQL (an image of this host, not built), with a dump of
 * production-like customers (db/seed.sql) and the scrub that replaces their names and addresses (scripts/scrub.sql).
 */
export async function makeSeededRepo(dir: string): Promise<ComposeRepo> {
  const repo = composeRepoAt(dir);
  await repo.write("compose.yaml", `
services:
${WEB_SERVICE}  db:
    image: demo-launcher-example/compose-db:latest
    volumes: [pgdata:/var/lib/postgresql/data]
    healthcheck:
      test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "tasks", "-d", "tasks"]
${DB_CHECK_TIMING}      retries: 200
volumes:
  pgdata:
`);
  await repo.write("web/Dockerfile", `FROM ${SAMPLE_IMAGE}\nCOPY cgi-bin /srv/cgi-bin\nCMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/srv"]\n`);
  await repo.write("web/cgi-bin/index.cgi", cgi('echo "seeded web one at $COMMIT"'), 0o755);
  await repo.write("db/seed.sql", "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL);\nINSERT INTO customers (name, email) VALUES ('Ada Lovelace', 'ada@analytical.example'), ('Grace Hopper', 'grace@navy.example');\n");
  await repo.write("scripts/scrub.sql", "UPDATE customers SET name = 'Customer ' || id, email = 'customer' || id || '@example.invalid';\n");
  await repo.init();
  return repo;
}

function composeRepoAt(dir: string): ComposeRepo & { init(): Promise<void> } {
  const git = (args: string[]) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: dir });
  const repo: ComposeRepo & { init(): Promise<void> } = {
    dir,
    write: async (file, text, mode = 0o644) => {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
      await chmod(path.join(dir, file), mode);
    },
    commit: async (message) => {
      await git(["add", "-A"]);
      await git(["commit", "-q", "-m", message]);
      return (await git(["rev-parse", "HEAD"])).stdout.trim();
    },
    init: async () => {
      await git(["init", "-q", "-b", "main"]);
      await repo.commit("first");
    },
  };
  return repo;
}
