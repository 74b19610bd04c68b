// Previews of a Compose repository for real (git, Docker's builder, nginx): each service built per commit and build context, a push rebuilds only what changed and replaces it, the database keeps its rows across pushes, and "Start fresh" empties it.
import { mkdir, mkdtemp, rm, writeFile, chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { branchLabel } from "../../src/core/previews/preview-names.js";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { startLoad } from "../support/load.js";
import { GiveUp, startStack, waitFor, type Stack } from "../support/stack.js";

const SOURCE = `c${Math.random().toString(36).slice(2, 8)}`;

// web asks db for its rows by the service's name; db keeps them in its named volume. Only web publishes a port,
// so it is the routed service without any route in the config.
const COMPOSE = `
services:
  web:
    build: { context: web }
    environment:
      COMMIT: \${DEMO_COMMIT}
    ports: ["8080:8080"]
    depends_on:
      db: { condition: service_healthy }
  db:
    build: { context: db, args: { GREETING: rows } }
    volumes: [rows:/rows]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/greeting.txt"]
      interval: 300ms
      retries: 100
volumes:
  rows:
`;

const cgi = (body: string) => `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n${body}\n`;

describe("previews of a Compose repository (real git, builder, Docker and nginx)", () => {
  let root: string;
  let work: string;
  let stack: Stack;
  const git = (args: string[]) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: work });
  const write = async (file: string, text: string, mode = 0o644) => {
    await mkdir(path.dirname(path.join(work, file)), { recursive: true });
    await writeFile(path.join(work, file), text);
    await chmod(path.join(work, file), mode);
  };
  const commit = async (message: string) => {
    await git(["add", "-A"]);
    await git(["commit", "-q", "-m", message]);
    return (await git(["rev-parse", "HEAD"])).stdout.trim();
  };
  const build = async () => {
    const answer = await stack.api("POST", "/api/builds", { source: SOURCE, branch: "main" });
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
    work = path.join(root, "repo");
    await mkdir(work, { recursive: true });
    await write("compose.yaml", COMPOSE);
    await write("web/Dockerfile", `FROM ${SAMPLE_IMAGE}\nCOPY cgi-bin /srv/cgi-bin\nCMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/srv"]\n`);
    await write("web/cgi-bin/index.cgi", cgi('echo "web one at $COMMIT"\necho "rows: $(wget -q -O - http://db:8080/cgi-bin/rows.cgi)"'), 0o755);
    await write("web/cgi-bin/flag.cgi", cgi('echo "flag=$FLAG"'), 0o755);
    await write("web/cgi-bin/add.cgi", cgi('wget -q -O - "http://db:8080/cgi-bin/add.cgi?$QUERY_STRING"'), 0o755);
    await write("db/Dockerfile", `FROM ${SAMPLE_IMAGE}\nARG GREETING\nCOPY cgi-bin /srv/cgi-bin\nUSER 0\nRUN mkdir -p /rows && chown 65534:65534 /rows && echo "$GREETING" > /srv/greeting.txt\nUSER 65534:65534\nCMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/srv"]\n`);
    await write("db/cgi-bin/rows.cgi", cgi("cat /rows/list 2>/dev/null | tr '\\n' ' '"), 0o755);
    await write("db/cgi-bin/add.cgi", cgi('echo "$QUERY_STRING" >> /rows/list\necho added'), 0o755);
    await git(["init", "-q", "-b", "main"]);
    await commit("first");
    stack = await startStack({ nginxYaml: "  drain: 1s", extraYaml: `previews:\n  ${SOURCE}: { repo: ${JSON.stringify(work)}, compose: compose.yaml, memory: 64m, readiness: { path: /cgi-bin/index.cgi, timeout: 60s } }` });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    const images = await stack?.docker.listImages({ filters: { label: [`demo-launcher.source=${SOURCE}`] } });
    for (const image of images ?? []) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
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
    await write("web/cgi-bin/index.cgi", cgi('echo "web two at $COMMIT"\necho "rows: $(wget -q -O - http://db:8080/cgi-bin/rows.cgi)"'), 0o755);
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
});
