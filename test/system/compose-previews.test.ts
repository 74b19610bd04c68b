// Previews of a Compose repository for real (git, Docker's builder, nginx): each service built per commit and build context, a push rebuilds only what changed and replaces it, the database keeps its rows across pushes, and "Start fresh" empties it.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { branchLabel } from "../../src/core/previews/preview-names.js";
import { cgi, makeComposeRepo, makeSeededRepo, webPage, type ComposeRepo } from "../support/compose-repo.js";
import { execIn } from "../support/container-exec.js";
import { ensureExampleImages } from "../support/example-images.js";
import { startLoad } from "../support/load.js";
import { GiveUp, startStack, waitFor, type Stack } from "../support/stack.js";

const SOURCE = `c${Math.random().toString(36).slice(2, 8)}`;
/** A source whose previews' PostgreSQL is seeded from a file of the commit and scrubbed. */
const SEEDED = `s${Math.random().toString(36).slice(2, 8)}`;
const SEEDED_STATE = "{ from: db/seed.sql, scrub: scripts/scrub.sql, service: db, driver: postgres, database: tasks, user: postgres, password: tasks, owner: tasks }";

describe("previews of a Compose repository (real git, builder, Docker and nginx)", () => {
  let root: string;
  let repo: ComposeRepo;
  let stack: Stack;
  let seededRepo: ComposeRepo;
  const write = (file: string, text: string, mode?: number) => repo.write(file, text, mode);
  const commit = (message: string) => repo.commit(message);
  const build = async (source = SOURCE) => {
    const answer = await stack.api("POST", "/api/builds", { source, branch: "main" });
    const { id } = JSON.parse(answer.body) as { id: string };
    return waitFor(`build ${id}`, async () => {
      const view = JSON.parse((await stack.api("GET", `/api/builds/${id}`)).body) as { id: string; state: string; reason?: string; commit?: string };
      if (view.state === "failed") throw new GiveUp(`the build failed: ${view.reason}\n${(await stack.api("GET", `/api/builds/${id}/log`)).body.slice(-3000)}`);
      return view.state === "ready" ? view : undefined;
    }, 240_000, 200);
  };
  const host = () => `${branchLabel(SOURCE, "main")}.demo.localhost`;
  const page = async () => (await stack.viaNginx(host(), "/cgi-bin/index.cgi")).body.trim();
  const containers = async () => (await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${branchLabel(SOURCE, "main")}`] } })).map((info) => ({ service: info.Labels["demo-launcher.service"]!, id: info.Id, state: info.State }));

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-compose-previews-"));
    repo = await makeComposeRepo(path.join(root, "repo"));
    seededRepo = await makeSeededRepo(path.join(root, "seeded"));
    await ensureExampleImages();
    stack = await startStack({ nginxYaml: "  drain: 1s", extraYaml: `previews:\n  ${SOURCE}: { repo: ${JSON.stringify(repo.dir)}, compose: compose.yaml, memory: 64m, readiness: { path: /cgi-bin/index.cgi, timeout: 60s } }\n  ${SEEDED}: { repo: ${JSON.stringify(seededRepo.dir)}, compose: compose.yaml, memory: 256m, readiness: { path: /cgi-bin/index.cgi, timeout: 60s }, state: ${SEEDED_STATE} }` });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    for (const source of [SOURCE, SEEDED]) {
      const images = await stack?.docker.listImages({ filters: { label: [`demo-launcher.source=${source}`] } });
      for (const image of images ?? []) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    }
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("builds every service of the commit, serves it, keeps the database's rows across a push that rebuilds web only, and starts fresh on request", async () => {
    const first = await build();
    expect(await page()).toBe(`web one at ${first.commit}\nrows:`);
    expect((await stack.viaNginx(host(), "/cgi-bin/add.cgi?alpha")).body.trim()).toBe("added");
    expect(await page()).toContain("rows: alpha");
    const before = await containers();
    expect(before.map((entry) => entry.service).sort()).toEqual(["db", "web"]);

    // A push that changes web's context only: web is built, db's image is reused, and db keeps running with its rows.
    await write("web/cgi-bin/index.cgi", webPage("two"), 0o755);
    await commit("web two");
    const load = startLoad(stack.nginxPort, host(), { path: "/cgi-bin/index.cgi" });
    let second: { id: string; commit?: string };
    try {
      await load.more(5);
      second = await build();
      await waitFor("web two to be served", async () => (await page()).startsWith("web two"), 60_000);
      await load.more(5);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200 || !answer.body.includes("rows: alpha"))).toEqual([]);
    expect(await page()).toBe(`web two at ${second.commit}\nrows: alpha`);
    const log = (await stack.api("GET", `/api/builds/${second.id}/log`)).body;
    expect(log).toMatch(/service db: its build context, Dockerfile and args are unchanged since .* was built: reused, no build/);
    expect(log).not.toMatch(/service web: .*reused/);
    await waitFor("the old web to be drained and removed", async () => (await containers()).length === 2, 30_000);
    const after = await containers();
    expect(after.find((entry) => entry.service === "db")!.id).toBe(before.find((entry) => entry.service === "db")!.id);
    expect(after.find((entry) => entry.service === "web")!.id).not.toBe(before.find((entry) => entry.service === "web")!.id);
    // One image per service and context: two of web, one of db.
    const tags = (await stack.docker.listImages({ filters: { label: [`demo-launcher.source=${SOURCE}`] } })).flatMap((image) => image.RepoTags ?? []);
    expect(tags.filter((tag) => tag.startsWith(`${PREVIEW_IMAGE_REPO}/${SOURCE}-web:`))).toHaveLength(2);
    expect(tags.filter((tag) => tag.startsWith(`${PREVIEW_IMAGE_REPO}/${SOURCE}-db:`))).toHaveLength(1);

    // A push that changes db's build: the old db stops before the new one starts on the same volume; the rows stay.
    await write("db/cgi-bin/rows.cgi", cgi("echo -n 'kept:'; cat /rows/list 2>/dev/null | tr '\\n' ' '"), 0o755);
    await commit("db two");
    await build();
    await waitFor("the new db to answer", async () => (await page()).includes("rows: kept:alpha"), 60_000);
    await waitFor("one web and one db left", async () => (await containers()).length === 2, 30_000);
    expect((await containers()).find((entry) => entry.service === "db")!.id).not.toBe(before.find((entry) => entry.service === "db")!.id);

    // A preview's own variable, set through the API: applied without a build, the rows still there.
    const label = branchLabel(SOURCE, "main");
    expect((await stack.api("PUT", `/api/previews/${label}/env`, { env: { DEMO_URL: "x" } })).status).toBe(400);
    const builds = (JSON.parse((await stack.api("GET", "/api/builds")).body) as { builds: unknown[] }).builds.length;
    const set = await stack.api("PUT", `/api/previews/${label}/env`, { env: { FLAG: "on" } });
    expect(set.status).toBe(202);
    expect(JSON.parse(set.body)).toMatchObject({ env: ["FLAG"] });
    await waitFor("the flag to be served", async () => (await stack.viaNginx(host(), "/cgi-bin/flag.cgi")).body.trim() === "flag=on", 60_000);
    // Served by the new web before the replacement has ended (the old one drains): Start fresh below waits for its end.
    await waitFor("the replacement to end", async () => (JSON.parse((await stack.api("GET", `/api/demos/${label}`)).body) as { replacement?: { status: string } }).replacement?.status === "succeeded", 60_000);
    expect(await page()).toContain("rows: kept:alpha");
    expect((JSON.parse((await stack.api("GET", "/api/builds")).body) as { builds: unknown[] }).builds).toHaveLength(builds);

    // "Start fresh" from the preview's page: new containers and a new volume, so no rows.
    const home = await stack.viaNginx(host(), "/__demo/", { headers: { accept: "text/html" } });
    expect(home.body).toContain("Start fresh");
    // A page elsewhere (another demo's too) cannot start it fresh, whatever it asks to accept.
    const foreign = await stack.viaNginx(host(), "/__demo/reset", { method: "POST", headers: { accept: "application/json", origin: `http://other-demo.demo.localhost:${stack.nginxPort}` } });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain("from its own page");
    const fresh = await stack.viaNginx(host(), "/__demo/reset", { method: "POST", headers: { accept: "application/json" } });
    expect(fresh.status).toBe(202);
    await waitFor("the fresh preview to answer with no rows", async () => {
      const view = JSON.parse((await stack.api("GET", `/api/demos/${branchLabel(SOURCE, "main")}`)).body) as { status: string };
      return view.status === "ready" && (await page()).endsWith("rows: kept:");
    }, 90_000);

    // Its removal takes every container, the network and the volume.
    expect((await stack.api("DELETE", `/api/previews/${branchLabel(SOURCE, "main")}`)).status).toBe(200);
    const filters = { label: [`demo-launcher.id=${branchLabel(SOURCE, "main")}`] };
    await waitFor("nothing of the preview to be left", async () => (await stack.docker.listContainers({ all: true, filters })).length + (await stack.docker.listNetworks({ filters })).length + ((await stack.docker.listVolumes({ filters })).Volumes ?? []).length === 0, 60_000);
  });
  it("seeds a fresh preview's PostgreSQL from the commit's dump, scrubbed before it is routed; a push keeps the rows, Start fresh seeds again", async () => {
    const label = branchLabel(SEEDED, "main");
    const seededHost = `${label}.demo.localhost`;
    const db = async () => (await stack.docker.listContainers({ filters: { label: [`demo-launcher.id=${label}`, "demo-launcher.service=db"] } }))[0]!.Id;
    const customers = async () => (await execIn(stack.docker, await db(), ["sh", "-c", 'PGPASSWORD=tasks exec psql -X -At -U tasks -d tasks -c "SELECT name, email FROM customers ORDER BY id"'], "postgres")).trim();
    const first = await build(SEEDED);
    expect((await stack.viaNginx(seededHost, "/cgi-bin/index.cgi")).body.trim()).toBe(`seeded web one at ${first.commit}`);
    // The dump's names and addresses were replaced by the scrub before anyone could open the preview.
    expect(await customers()).toBe("Customer 1|customer1@example.invalid\nCustomer 2|customer2@example.invalid");
    const view = JSON.parse((await stack.api("GET", `/api/demos/${label}`)).body) as { status: string };
    expect(view.status).toBe("ready");

    // A reviewer's row, then a push: the preview keeps its data (its volume), the seed is not loaded again.
    await execIn(stack.docker, await db(), ["sh", "-c", `PGPASSWORD=tasks exec psql -X -q -U tasks -d tasks -c "INSERT INTO customers (name, email) VALUES ('Typed by a reviewer', 'reviewer@example.invalid')"`], "postgres");
    await seededRepo.write("web/cgi-bin/index.cgi", cgi('echo "seeded web two at $COMMIT"'), 0o755);
    await seededRepo.commit("seeded web two");
    const second = await build(SEEDED);
    await waitFor("seeded web two to be served", async () => (await stack.viaNginx(seededHost, "/cgi-bin/index.cgi")).body.trim() === `seeded web two at ${second.commit}`, 60_000);
    expect(await customers()).toBe("Customer 1|customer1@example.invalid\nCustomer 2|customer2@example.invalid\nTyped by a reviewer|reviewer@example.invalid");

    // Start fresh: a new volume, seeded and scrubbed again before it is routed.
    await waitFor("the replacement to end", async () => (JSON.parse((await stack.api("GET", `/api/demos/${label}`)).body) as { replacement?: { status: string } }).replacement?.status === "succeeded", 60_000);
    expect((await stack.viaNginx(seededHost, "/__demo/reset", { method: "POST", headers: { accept: "application/json" } })).status).toBe(202);
    await waitFor("the fresh preview to be ready", async () => (JSON.parse((await stack.api("GET", `/api/demos/${label}`)).body) as { status: string }).status === "ready", 90_000);
    expect(await customers()).toBe("Customer 1|customer1@example.invalid\nCustomer 2|customer2@example.invalid");
  });
});
