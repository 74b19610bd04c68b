// Rewinds with real MariaDB (WordPress) and PostgreSQL (notes) servers: change rows, rewind, compare row for row;
// and the refusals: unknown source, an ended demo, a rewind while one runs, a dump that fails to load.
import type { JobView } from "../../../src/api/views.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_APPS_YAML, ensureExampleImages } from "../../support/example-images.js";
import { containerOf as containerOfDemo, execIn as execInContainer, notesRows as notesRowsOf } from "../../support/container-exec.js";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { SAMPLE_IMAGE } from "../../../src/docker/sample-image.js";
import { launchAndWait, request, requireDocker, startStack, waitFor, type Stack } from "../../support/stack.js";


const containerOf = (stack: Stack, demoId: string) => containerOfDemo(stack.docker, demoId);
const execIn = (stack: Stack, containerId: string, argv: string[], user?: string) => execInContainer(stack.docker, containerId, argv, user);
const notesRows = (stack: Stack, containerId: string) => notesRowsOf(stack.docker, containerId);

/** Every row of every table, sorted: two databases with equal rows give equal text. */
async function mariadbRows(stack: Stack, containerId: string, database = "wordpress"): Promise<string> {
  const tables = (await execIn(stack, containerId, ["mariadb", "-N", "-B", database, "-e", "SHOW TABLES"])).trim().split("\n");
  const parts: string[] = [];
  for (const table of tables) {
    const rows = (await execIn(stack, containerId, ["mariadb", "-N", "-B", database, "-e", `SELECT * FROM \`${table}\``])).trim().split("\n").sort();
    parts.push(`${table}\n${rows.join("\n")}`);
  }
  return parts.join("\n\n");
}

/** The hello sample with its guestbook folder declared a volume (as many database images declare theirs). */
async function stack_build_volumed(): Promise<string> {
  const image = "demo-launcher-test/with-volume:latest";
  const dir = await mkdtemp(path.join(os.tmpdir(), "with-volume-"));
  await writeFile(path.join(dir, "Dockerfile"), `FROM ${SAMPLE_IMAGE}\nVOLUME /data\n`);
  await requireDocker();
  await execa("docker", ["build", "-q", "-t", image, dir]);
  return image;
}

async function followJob(stack: Stack, job: JobView): Promise<JobView> {
  return waitFor(`job ${job.id} to finish`, async () => {
    const view = JSON.parse((await stack.api("GET", `/api/jobs/${job.id}`)).body) as JobView;
    return view.status === "done" || view.status === "failed" ? view : undefined;
  }, 120_000, 100);
}

describe("rewinds on real databases", () => {
  let stack: Stack;

  beforeAll(async () => {
    await ensureExampleImages();
    // An app that keeps its data in a Docker volume: a snapshot could not hold it.
    const build = await stack_build_volumed();
    stack = await startStack({ appsYaml: `${EXAMPLE_APPS_YAML}\n  volumed:\n    image: ${build}\n    port: 8080\n    memory: 64m\n    state:\n      default: saved\n      sources:\n        saved: { kind: snapshot }`, limitsYaml: "limits: { maxDemos: 12, perClient: 12 }" });
  }, 600_000);

  afterAll(async () => {
    await stack?.close();
    // Snapshots are images named after this run's namespace: nothing of another run is touched.
    const images = await stack?.docker.listImages({ filters: { reference: [`demo-launcher-snapshot/${stack.namespace}-*`] } });
    for (const image of images ?? []) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
  });

  it("lists an app's sources, and refuses an unknown app", async () => {
    const sources = JSON.parse((await stack.api("GET", "/api/apps/wordpress/sources")).body);
    expect(sources).toEqual({ default: "fixtures", sources: [{ name: "fixtures", kind: "dump", driver: "mariadb", title: "The shop blog with three posts" }, { name: "broken", kind: "dump", driver: "mariadb" }, { name: "saved", kind: "snapshot", title: "Set up by the sales team" }] });
    expect(JSON.parse((await stack.api("GET", "/api/apps/notes/sources")).body).sources.at(-1)).toEqual({ name: "prepared", kind: "snapshot", title: "Saved by the team from a demo" });
    const unknown = await stack.api("GET", "/api/apps/nope/sources");
    expect(unknown.status).toBe(404);
    expect(unknown.headers["content-type"]).toMatch(/problem\+json/);
  });

  it("rewinds WordPress on MariaDB to its fixtures: row for row what it started with", async () => {
    const demo = await launchAndWait(stack, "wordpress", "ready", 90_000);
    const container = await containerOf(stack, demo.id);
    const fresh = await mariadbRows(stack, container);
    expect(fresh).toContain("Spring collection is here");
    await execIn(stack, container, ["mariadb", "wordpress", "-e", "INSERT INTO wp_posts (post_author, post_title, post_content, post_excerpt, to_ping, pinged, post_content_filtered, post_status, post_date, post_date_gmt, post_modified, post_modified_gmt) VALUES (1, 'A visitor was here', '', '', '', '', '', 'publish', NOW(), NOW(), NOW(), NOW()); DELETE FROM wp_posts WHERE post_title = 'Shipping and returns'; UPDATE wp_options SET option_value = 'Changed' WHERE option_name = 'blogname'; CREATE TABLE wp_extra (id int)"]);
    expect(await mariadbRows(stack, container)).not.toBe(fresh);

    const answer = await stack.api("POST", `/api/demos/${demo.id}/rewind`, { source: "fixtures" });
    expect(answer.status).toBe(202);
    const job = JSON.parse(answer.body) as JobView;
    expect(answer.headers.location).toBe(`/api/jobs/${job.id}`);
    // A second request while it runs gets the same job, not a second rewind.
    const again = JSON.parse((await stack.api("POST", `/api/demos/${demo.id}/rewind`, {})).body) as JobView;
    expect(again.id).toBe(job.id);
    const finished = await followJob(stack, job);
    expect(finished).toMatchObject({ status: "done", source: "fixtures" });
    expect(finished.durationMs).toBeGreaterThan(0);
    // The source itself, loaded by hand into a scratch database beside it: the rewound one must hold exactly its rows.
    const rewound = await mariadbRows(stack, container);
    await execIn(stack, container, ["sh", "-c", "mariadb -e 'CREATE DATABASE source_check' && mariadb source_check < /opt/demo/fixtures/fixtures.sql"]);
    expect(rewound).toBe(await mariadbRows(stack, container, "source_check"));
    expect(rewound).not.toContain("A visitor was here");
    // The site serves the fixtures again through nginx.
    const page = await stack.viaNginx(demo.host, "/");
    expect(page.body).toContain("Shipping and returns");
    expect(page.body).not.toContain("A visitor was here");
  }, 180_000);

  it("rewinds the notes app on PostgreSQL, and a second time from its template", async () => {
    const demo = await launchAndWait(stack, "notes", "ready", 60_000);
    const container = await containerOf(stack, demo.id);
    const fresh = await notesRows(stack, container);
    for (let round = 0; round < 2; round += 1) {
      const added = await stack.viaNginx(demo.host, "/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `text=round+${round}` });
      expect(added.status).toBe(303);
      await execIn(stack, container, ["psql", "-X", "-q", "-U", "notes", "-d", "notes", "-c", "UPDATE notes SET text = 'changed' WHERE id = 2"], "postgres");
      expect(await notesRows(stack, container)).not.toBe(fresh);
      const job = JSON.parse((await stack.api("POST", `/api/demos/${demo.id}/rewind`)).body) as JobView;
      expect(await followJob(stack, job)).toMatchObject({ status: "done", source: "fixtures" });
      // Rows and the sequence are the source's: the next note gets id 4 again.
      expect(await notesRows(stack, container)).toBe(fresh);
    }
    // The app's role still owns its tables: it writes after the rewind.
    expect((await stack.viaNginx(demo.host, "/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "text=after" })).status).toBe(303);
  }, 180_000);

  it("keeps the previous state when a dump fails to load, with the tool's message; refuses unknown sources and ended demos", async () => {
    const wordpress = await launchAndWait(stack, "wordpress", "ready", 90_000);
    const notes = await launchAndWait(stack, "notes", "ready", 60_000);
    for (const [demo, rows, insert, user] of [
      [wordpress, mariadbRows, ["mariadb", "wordpress", "-e", "UPDATE wp_options SET option_value = 'Kept' WHERE option_name = 'blogname'"], undefined],
      [notes, notesRows, ["psql", "-X", "-q", "-U", "notes", "-d", "notes", "-c", "INSERT INTO notes (text) VALUES ('kept')"], "postgres"],
    ] as const) {
      const container = await containerOf(stack, demo.id);
      await execIn(stack, container, [...insert], user);
      // Half a dump: a table, some rows, then a syntax error.
      await execIn(stack, container, ["sh", "-c", "printf 'CREATE TABLE half (id int);\\nINSERT INTO half VALUES (1);\\nTHIS IS NOT SQL;\\n' > /tmp/broken.sql"]);
      const before = await rows(stack, container);
      const job = JSON.parse((await stack.api("POST", `/api/demos/${demo.id}/rewind`, { source: "broken" })).body) as JobView;
      const failed = await followJob(stack, job);
      expect(failed.status).toBe("failed");
      expect(failed.reason).toMatch(/syntax error|ERROR 1064/i);
      expect(await rows(stack, container)).toBe(before);
      expect((await stack.viaNginx(demo.host, demo.host.startsWith("notes") ? "/notes.json" : "/wp-login.php")).status).toBe(200);
      const view = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body);
      expect(view.status).toBe("ready");
    }
    const unknown = await stack.api("POST", `/api/demos/${notes.id}/rewind`, { source: "nope" });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ allowed: ["fixtures", "broken", "prepared"] });
    const bad = await stack.api("POST", `/api/demos/${notes.id}/rewind`, { source: "../../etc/passwd" });
    expect(bad.status).toBe(400);
    expect((await stack.api("DELETE", `/api/demos/${notes.id}`)).status).toBe(204);
    const ended = await stack.api("POST", `/api/demos/${notes.id}/rewind`, {});
    expect(ended.status).toBe(409);
    expect(JSON.parse(ended.body).detail).toMatch(/has ended/);
    expect((await stack.api("GET", "/api/jobs/nosuchjob")).status).toBe(404);
  }, 240_000);

  it("saves a demo as a snapshot, rewinds to it by a zero-downtime replacement, and starts new demos from a default snapshot", async () => {
    const note = async (demo: { host: string }, text: string) => {
      const added = await stack.viaNginx(demo.host, "/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `text=${encodeURIComponent(text)}` });
      expect(added.status, `adding the note "${text}" answered: ${added.body.slice(0, 300)}`).toBe(303);
    };
    const notesOf = async (demo: { host: string }) => (JSON.parse((await stack.viaNginx(demo.host, "/notes.json")).body) as Array<{ text: string }>).map((row) => row.text);
    const demo = await launchAndWait(stack, "notes", "ready", 60_000);
    await note(demo, "prepared by the team");
    const refused = await stack.api("POST", `/api/demos/${demo.id}/snapshot`, { source: "fixtures" });
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body)).toMatchObject({ allowed: ["prepared"] });
    const saved = await followJob(stack, JSON.parse((await stack.api("POST", `/api/demos/${demo.id}/snapshot`, { source: "prepared" })).body) as JobView);
    expect(saved).toMatchObject({ status: "done", source: "prepared" });
    await stack.docker.getImage(`demo-launcher-snapshot/${stack.namespace}-notes:prepared`).inspect();

    await note(demo, "written after the snapshot");
    const rewound = await followJob(stack, JSON.parse((await stack.api("POST", `/api/demos/${demo.id}/rewind`, { source: "prepared" })).body) as JobView);
    expect(rewound, JSON.stringify(rewound)).toMatchObject({ status: "done" });
    const texts = await notesOf(demo);
    expect(texts).toContain("prepared by the team");
    expect(texts).not.toContain("written after the snapshot");
    const view = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body);
    expect(view).toMatchObject({ status: "ready", replacement: { status: "succeeded", image: `demo-launcher-snapshot/${stack.namespace}-notes:prepared` } });

    // An app whose default source is a snapshot: the first ready demo gives it (auto), a later one is saved by hand.
    const first = await launchAndWait(stack, "notes-prepared", "ready", 60_000);
    await waitFor("the automatic snapshot", async () => stack.docker.getImage(`demo-launcher-snapshot/${stack.namespace}-notes-prepared:start`).inspect().then(() => true, () => false), 60_000, 250);
    await note(first, "the team's starting point");
    expect((await followJob(stack, JSON.parse((await stack.api("POST", `/api/demos/${first.id}/snapshot`, { source: "start" })).body) as JobView)).status).toBe("done");
    const next = await launchAndWait(stack, "notes-prepared", "ready", 60_000);
    expect(await notesOf(next)).toContain("the team's starting point");
  }, 240_000);

  it("saves WordPress on MariaDB as a snapshot and rewinds to it: the database row for row as it was saved", async () => {
    const blogname = async (container: string) => (await execIn(stack, container, ["mariadb", "-N", "wordpress", "-e", "SELECT option_value FROM wp_options WHERE option_name = 'blogname'"])).trim();
    const demo = await launchAndWait(stack, "wordpress", "ready", 90_000);
    const first = await containerOf(stack, demo.id);
    await execIn(stack, first, ["mariadb", "wordpress", "-e", "UPDATE wp_options SET option_value = 'Prepared for the sales call' WHERE option_name = 'blogname'; DELETE FROM wp_posts WHERE post_title = 'Shipping and returns'"]);
    const savedRows = await mariadbRows(stack, first);
    expect((await followJob(stack, JSON.parse((await stack.api("POST", `/api/demos/${demo.id}/snapshot`, { source: "saved" })).body) as JobView)).status).toBe("done");
    await execIn(stack, first, ["mariadb", "wordpress", "-e", "UPDATE wp_options SET option_value = 'Changed by a visitor' WHERE option_name = 'blogname'; TRUNCATE wp_posts"]);
    const rewound = await followJob(stack, JSON.parse((await stack.api("POST", `/api/demos/${demo.id}/rewind`, { source: "saved" })).body) as JobView);
    expect(rewound, JSON.stringify(rewound)).toMatchObject({ status: "done" });
    // A new container from the snapshot now serves the demo; its database recovered to the moment of the snapshot.
    const second = await waitFor("the old container to go", async () => {
      const containers = await stack.docker.listContainers({ filters: { label: [`demo-launcher.id=${demo.id}`] } });
      return containers.length === 1 && containers[0]!.Id !== first ? containers[0]!.Id : undefined;
    }, 30_000, 200);
    expect(await blogname(second)).toBe("Prepared for the sales call");
    expect(await mariadbRows(stack, second)).toBe(savedRows);
  }, 240_000);

  it("refuses to snapshot an app that keeps its data in a Docker volume, saying which", async () => {
    const demo = await launchAndWait(stack, "volumed");
    const job = await followJob(stack, JSON.parse((await stack.api("POST", `/api/demos/${demo.id}/snapshot`, { source: "saved" })).body) as JobView);
    expect(job).toMatchObject({ status: "failed", reason: "its app keeps data in Docker volumes (/data), which a snapshot cannot hold; use a dump source" });
    expect((await stack.api("GET", `/api/demos/${demo.id}`)).body).toContain('"status":"ready"');
  }, 60_000);

  it("lets the visitor who launched a demo reset it from its host, and nobody else", async () => {
    const launched = await stack.viaNginx("demo.localhost", "/api/demos", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ app: "notes" }) });
    expect(launched.status).toBe(201);
    const demo = JSON.parse(launched.body) as { id: string; host: string };
    await waitFor("the notes demo", async () => JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body).status === "ready", 60_000, 100);
    const status = JSON.parse((await stack.viaNginx(demo.host, "/__demo/status.json")).body);
    expect(status.canReset).toBe(true);
    // Another visitor (another address, as nginx reports it) sees no button and is refused.
    const other = { "x-real-ip": "10.9.8.7" };
    const port = stack.config.listen.port;
    expect(JSON.parse((await request(port, { host: demo.host, path: "/__demo/status.json", headers: other })).body).canReset).toBeUndefined();
    const refused = await request(port, { host: demo.host, path: "/__demo/rewind", method: "POST", headers: { ...other, accept: "application/json" } });
    expect(refused.status).toBe(403);
    expect(refused.headers["content-type"]).toMatch(/problem\+json/);
    // A page of another site cannot make the visitor's browser reset it.
    const forged = await stack.viaNginx(demo.host, "/__demo/rewind", { method: "POST", headers: { accept: "application/json", origin: "http://evil.example" } });
    expect(forged.status).toBe(403);
    // The visitor themselves: a job, followed on the demo's own host.
    const started = await stack.viaNginx(demo.host, "/__demo/rewind", { method: "POST", headers: { accept: "application/json", origin: `http://${demo.host}:${stack.nginxPort}` } });
    expect(started.status).toBe(202);
    const job = JSON.parse(started.body) as JobView;
    expect(started.headers.location).toBe(`/__demo/jobs/${job.id}`);
    await waitFor("the reset", async () => JSON.parse((await stack.viaNginx(demo.host, `/__demo/jobs/${job.id}`)).body).status === "done", 60_000, 100);
    // Nobody else reads the job, by the API or on the demo's host.
    expect((await request(port, { host: "demo.localhost", path: `/api/jobs/${job.id}`, headers: other })).status).toBe(404);
    expect((await request(port, { host: demo.host, path: `/__demo/jobs/${job.id}`, headers: other })).status).toBe(404);
  }, 120_000);
});
