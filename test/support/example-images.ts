// The example apps on real databases (WordPress on MariaDB, notes on PostgreSQL), built once per machine by the project's script.
import path from "node:path";
import { execa } from "execa";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";

export const WORDPRESS_IMAGE = "demo-launcher-example/wordpress:latest";
export const NOTES_IMAGE = "demo-launcher-example/notes-postgres:latest";

/** Builds them when missing or changed (Docker's cache makes it seconds otherwise); fails with the build's output. */
export async function ensureExampleImages(): Promise<void> {
  await execa("bash", [path.join(PACKAGE_ROOT, "scripts/ensure-example-images.sh")], { stdio: "inherit" });
}

/** The notes app under a name, with its state: section (indented for the apps: map). */
function notesApp(name: string, state: string): string {
  return `  ${name}:
    image: ${NOTES_IMAGE}
    port: 8080
    memory: 256m
    pids: 256
    readiness: { path: /notes.json, timeout: 60s }
    state:
      ${state}`;
}

/** The apps: section for both, with their state sources (as the README shows them) and a broken one for tests. */
export const EXAMPLE_APPS_YAML = `  wordpress:
    image: ${WORDPRESS_IMAGE}
    port: 8080
    title: WordPress
    description: A blog on WordPress and MariaDB; log in as demo / demo-password.
    memory: 512m
    pids: 256
    cpus: 1
    readiness: { path: /wp-login.php, timeout: 60s }
    state:
      default: fixtures
      sources:
        fixtures: { driver: mariadb, file: /opt/demo/fixtures/fixtures.sql, database: wordpress, title: "The shop blog with three posts" }
        broken: { driver: mariadb, file: /tmp/broken.sql, database: wordpress }
        saved: { kind: snapshot, title: "Set up by the sales team" }
${notesApp("notes", `default: fixtures
      sources:
        fixtures: { driver: postgres, file: /opt/demo/fixtures.sql, database: notes, owner: notes }
        broken: { driver: postgres, file: /tmp/broken.sql, database: notes, owner: notes }
        prepared: { kind: snapshot, title: "Saved by the team from a demo" }`)}
${notesApp("notes-prepared", `default: start
      sources:
        start: { kind: snapshot, auto: true }`)}`;
