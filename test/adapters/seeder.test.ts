// The database seeder on real PostgreSQL containers and a real git mirror: a preview's seed from a file of the commit,
// scrubbed before it goes live; a shared demo's rows dumped and loaded; a scrub that fails leaves the live rows alone.
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerRuntime } from "../../src/docker/runtime.js";
import { DumpRestorer } from "../../src/databases/run.js";
import { DatabaseSeeder } from "../../src/databases/seeder.js";
import { GitMirror } from "../../src/builds/git.js";
import type { Demo } from "../../src/core/model.js";
import type { DumpTarget } from "../../src/core/state/state-sources.js";
import { execIn } from "../support/container-exec.js";
import { ensureExampleImages, NOTES_IMAGE } from "../support/example-images.js";
import { requireDocker, waitFor } from "../support/stack.js";

const SEED = `CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL);
INSERT INTO customers (name, email) VALUES ('Ada Lovelace', 'ada@analytical.example'), ('Grace Hopper', 'grace@navy.example');
`;
const SCRUB = "UPDATE customers SET name = 'Customer ' || id, email = 'customer' || id || '@example.invalid';\n";
const target: DumpTarget = { driver: "postgres", database: "notes", owner: "notes", timeout: 60_000 };

describe("seeding a preview's database (real PostgreSQL, real git)", () => {
  let docker: Docker;
  let root: string;
  let commit: string;
  let seeder: DatabaseSeeder;
  const containers: string[] = [];
  /** Two PostgreSQL containers started at once: a preview's (the refusals reuse it) and a shared demo's. */
  let databases: Promise<string[]>;
  const demo = (): Demo => ({ id: "web-pr-1", kind: "preview", app: "web", host: "web-pr-1.demo.localhost", createdAt: 0, expiresAt: 1, status: "starting", step: "seeding", instances: [], preview: { commit } });
  const rows = (containerId: string, sql = "SELECT name, email FROM customers ORDER BY id") => execIn(docker, containerId, ["psql", "-X", "-At", "-U", "notes", "-d", "notes", "-c", sql], "postgres").then((text) => text.trim());

  async function startPostgres(): Promise<string> {
    const container = await docker.createContainer({ Image: NOTES_IMAGE, Labels: { "demo-launcher-test": "seeder" }, HostConfig: { AutoRemove: false } });
    await container.start();
    containers.push(container.id);
    await waitFor("PostgreSQL to answer", async () => (await execIn(docker, container.id, ["pg_isready", "-q", "-h", "/run/postgresql"], "postgres").then(() => true, () => false)) || undefined, 60_000, 100);
    return container.id;
  }

  beforeAll(async () => {
    docker = await requireDocker();
    await ensureExampleImages();
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-seeder-"));
    const repo = path.join(root, "repo");
    await mkdir(path.join(repo, "db"), { recursive: true });
    await mkdir(path.join(repo, "scripts"), { recursive: true });
    await writeFile(path.join(repo, "db/seed.sql"), SEED);
    await writeFile(path.join(repo, "scripts/scrub.sql"), SCRUB);
    await writeFile(path.join(repo, "scripts/broken-scrub.sql"), "UPDATE customers SET no_such_column = 1;\n");
    const git = (...args: string[]) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo });
    await git("init", "-q", "-b", "main");
    await git("add", ".");
    await git("commit", "-qm", "seed");
    commit = (await git("rev-parse", "HEAD")).stdout.trim();
    const mirror = GitMirror.forRepo(path.join(root, "state"), repo);
    await mirror.fetch();
    const runtime = new DockerRuntime(docker);
    seeder = new DatabaseSeeder(runtime, new DumpRestorer(runtime), (_source, wanted, file, maxBytes) => mirror.readFile(wanted, file, maxBytes));
    databases = Promise.all([startPostgres(), startPostgres()]);
    databases.catch(() => {});
  }, 600_000);

  afterAll(async () => {
    for (const id of containers) await docker.getContainer(id).remove({ force: true, v: true }).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("loads a file of the commit, scrubbed before it goes live; a shared demo's rows come over scrubbed and stay where they were", async () => {
    const [preview, shared] = (await databases) as [string, string];
    await seeder.seed(demo(), preview, { target, from: { kind: "file", path: "db/seed.sql" }, scrub: "scripts/scrub.sql" });
    expect(await rows(preview)).toBe("Customer 1|customer1@example.invalid\nCustomer 2|customer2@example.invalid");
    // The seed replaced the whole database (the image's notes are gone), owned by the app's role; no copy is left behind.
    expect(await rows(preview, "SELECT count(*) FROM pg_tables WHERE tablename = 'notes'")).toBe("0");
    expect(await rows(preview, "SELECT tableowner FROM pg_tables WHERE tablename = 'customers'")).toBe("notes");
    expect((await execIn(docker, preview, ["ls", "-A", "/tmp/demo-launcher-seed"])).trim()).toBe("");

    // A shared demo's database, with rows a visitor typed: dumped there, loaded here, scrubbed on the way.
    await execIn(docker, shared, ["psql", "-X", "-q", "-U", "notes", "-d", "notes", "-c", "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL)", "-c", "INSERT INTO customers (name, email) VALUES ('Real Person', 'real.person@customer.example'), ('Another One', 'another@customer.example'), ('Third', 'third@customer.example')"], "postgres");
    await seeder.seed(demo(), preview, { target, from: { kind: "database", containerId: shared, target }, scrub: "scripts/scrub.sql" });
    expect(await rows(preview)).toBe("Customer 1|customer1@example.invalid\nCustomer 2|customer2@example.invalid\nCustomer 3|customer3@example.invalid");
    expect(await rows(shared)).toBe("Real Person|real.person@customer.example\nAnother One|another@customer.example\nThird|third@customer.example");
  });

  it("refuses in the tool's words and leaves the live rows as they were: a scrub that fails, a file the commit lacks", async () => {
    const preview = (await databases)[0]!;
    await seeder.seed(demo(), preview, { target, from: { kind: "file", path: "db/seed.sql" } });
    const before = await rows(preview);
    expect(before).toBe("Ada Lovelace|ada@analytical.example\nGrace Hopper|grace@navy.example");
    await execIn(docker, preview, ["psql", "-X", "-q", "-U", "notes", "-d", "notes", "-c", "INSERT INTO customers (name, email) VALUES ('Typed', 'typed@example.invalid')"], "postgres");
    await expect(seeder.seed(demo(), preview, { target, from: { kind: "file", path: "db/seed.sql" }, scrub: "scripts/broken-scrub.sql" })).rejects.toThrow(/the scrub step failed: psql failed \(exit 3\): .*no_such_column/);
    await expect(seeder.seed(demo(), preview, { target, from: { kind: "file", path: "db/missing.sql" } })).rejects.toThrow(`the commit ${commit.slice(0, 12)} has no file db/missing.sql`);
    expect(await rows(preview)).toBe(`${before}\nTyped|typed@example.invalid`);
  });
});
