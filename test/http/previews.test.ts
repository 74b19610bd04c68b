// Preview pages, the entry URL and the builds API over HTTP, on the real build runner with real git and scripted
// image builds (no Docker, no nginx): the build page and its live log, refusals, a failed build and its rebuild, a
// repository that comes back, a full queue, and removal. Real Docker builds and nginx: test/system/preview-pages.
import type { AddressInfo } from "node:net";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servePreviewBuilds } from "../../src/app/previews.js";
import { BuildRunner } from "../../src/builds/build-runner.js";
import { systemScheduler } from "../../src/clock/system-scheduler.js";
import type { Build } from "../../src/core/builds/build-queue.js";
import { branchLabel, commitLabel } from "../../src/core/previews/preview-names.js";
import { publicOrigin } from "../../src/http/context.js";
import { silentLogger } from "../../src/logger.js";
import { makeWorkRepo, type WorkRepo } from "../support/git-repo.js";
import { httpApp, type HttpApp } from "../support/http-app.js";
import { ScriptedImages } from "../support/preview-images.js";
import { logText, readEvents } from "../support/sse.js";

const TOKEN = "a-long-enough-admin-token";
const ADMIN = { authorization: `Bearer ${TOKEN}` };
const HTML = { accept: "text/html" };
const VISITOR = "203.0.113.7";
const host = (label: string) => `${label}.demo.localhost`;

describe("preview pages and builds over HTTP (real git, scripted image builds)", () => {
  let root: string;
  let work: WorkRepo;
  let app: HttpApp;
  let images: ScriptedImages;
  let runner: BuildRunner;
  let lateRepo: string;

  const visit = (label: string, url: string, headers: Record<string, string> = {}) => app.viaNginx(VISITOR, { url, headers: { host: host(label), ...headers } });
  const open = (query: string, headers: Record<string, string> = {}) => app.viaNginx(VISITOR, { url: `/preview?${query}`, headers });
  const api = (method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown) => app.inject({ method, url, headers: { ...ADMIN, host: "demo.localhost", ...(payload ? { "content-type": "application/json" } : {}) }, ...(payload ? { payload: JSON.stringify(payload) } : {}) });
  const buildOf = (id: string) => runner.until(() => runner.queue.get(id));
  const ended = (id: string) => runner.until(() => {
    const build = runner.queue.get(id);
    return build && !runner.queue.isActive(build) ? build : undefined;
  });

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-http-previews-"));
    work = await makeWorkRepo(path.join(root, "work"));
    for (const [branch, page] of [["feature/slow-log", "slow log"], ["broken/one", "broken"], ["feature/alpha", "alpha"]] as const) {
      await work.git(["checkout", "-q", "-b", branch, "main"]);
      await work.commitPage(page);
    }
    await work.git(["checkout", "-q", "main"]);
    // The late source's repository appears (one rename) only once its build has said it cannot fetch it.
    lateRepo = path.join(root, "late.git");
    await execa("git", ["clone", "-q", "--bare", work.dir, path.join(root, "late-ready.git")]);
    const source = (repo: string) => `{ repo: ${JSON.stringify(`file://${repo}`)}, port: 8080, readiness: { path: /, timeout: 20s } }`;
    app = await httpApp(`adminToken: ${TOKEN}\npreviews:\n  web: ${source(work.dir)}\n  late: ${source(lateRepo)}\nbuilds: { concurrency: 2, queueLength: 3, timeout: 2m }`, {
      scheduler: systemScheduler,
      deps: async ({ engine, config, scheduler, runtime }) => {
        images = new ScriptedImages(runtime);
        let ids = 0;
        runner = new BuildRunner({ stateDir: config.stateDir, previews: config.previews, limits: config.builds, docker: { ping: async () => "OK" }, images, logger: silentLogger, scheduler, newId: () => `build-${(ids += 1)}`, serve: servePreviewBuilds(config, engine, () => {}) });
        await runner.start();
        return { builds: runner };
      },
    });
    images.failing.set("broken/one", "MARKER-BROKEN-42");
  });
  afterAll(async () => {
    await runner?.close();
    await app?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("sends a person to the branch's host at once; its page follows the build's log live (resuming after a reconnect) and turns into the app", async () => {
    const label = branchLabel("web", "feature/slow-log");
    const held = images.hold("feature/slow-log");
    const entry = await open(`source=web&branch=${encodeURIComponent("feature/slow-log")}`, HTML);
    expect(entry.statusCode).toBe(303);
    expect(entry.headers.location).toBe(`${publicOrigin(app.config, host(label))}/`);
    await held;
    const page = await visit(label, "/", HTML);
    expect(page.statusCode).toBe(503);
    expect(page.body).toMatch(/Building the preview|Fetching|Waiting for a free builder/);
    expect(page.body).toContain('href="/__demo/build.log"');
    expect(page.body).toContain("log-line-3");

    // The stream sends the lines written so far; the build goes on only once they arrived, so the rest is a later event.
    await app.server.listen({ port: 0, host: "127.0.0.1" });
    const port = (app.server.server.address() as AddressInfo).port;
    let released = false;
    const first = await readEvents(port, host(label), "/__demo/build-events", {}, (events) => logText(events).includes("log-line-4"), (events) => {
      if (!released && logText(events).includes("log-line-3")) {
        released = true;
        images.release("feature/slow-log");
      }
    });
    const logEvents = first.filter((event) => event.event === "log");
    expect(logEvents[0]!.data).toContain("log-line-3");
    expect(logEvents[0]!.data).not.toContain("log-line-4");
    // A reconnect from the first event's id gets what came after it, without a repeat.
    const rest = await readEvents(port, host(label), "/__demo/build-events", { "last-event-id": logEvents[0]!.id! }, (events) => events.some((event) => event.event === "state" && JSON.parse(event.data).state === "ready"));
    expect(logText(rest)).not.toContain("log-line-1");
    expect(logText(rest)).toContain("log-line-5");
    expect(Number(rest.find((event) => event.event === "log")!.id)).toBeGreaterThan(Number(logEvents[0]!.id));

    // Ready means served: the engine runs the preview, and the page the controller answers (nginx routes the app) says so.
    await app.engine.until(label, (demo) => demo?.status === "ready");
    expect((await visit(label, "/", HTML)).statusCode).toBe(200);
    expect((await visit(label, "/__demo/build.log")).body).toContain("log-line-5");
    // The next visit of the same commit is served at once, without a build.
    const buildsBefore = runner.queue.all().length;
    const again = await open(`source=web&branch=${encodeURIComponent("feature/slow-log")}`);
    expect(again.statusCode).toBe(200);
    expect(runner.queue.all().length).toBe(buildsBefore);
  });

  it("refuses unknown sources and branches (with the close ones), malformed refs without running them, and takes a commit by a short id", async () => {
    const unknownSource = await open("source=nope&branch=main");
    expect(unknownSource.statusCode).toBe(404);
    expect(unknownSource.json()).toMatchObject({ allowed: ["web", "late"] });
    const unknownBranch = await open("source=web&branch=feature/alpah");
    expect(unknownBranch.statusCode).toBe(404);
    expect(unknownBranch.headers["content-type"]).toContain("application/problem+json");
    expect(unknownBranch.json().branches[0]).toBe("feature/alpha");
    const asPage = await open("source=web&branch=feature/alpah", HTML);
    expect(asPage.statusCode).toBe(404);
    expect(asPage.body).toContain("feature/alpha");
    const buildsBefore = runner.queue.all().length;
    for (const query of [`branch=${encodeURIComponent("--upload-pack=touch pwned")}`, `commit=${encodeURIComponent("$(id)")}`, "branch=a..b", "branch=main&commit=abcdef1", "branch=main&branch=x", "branch=main&extra=1"]) {
      const refused = await open(`source=web&${query}`);
      expect(refused.statusCode, query).toBe(400);
      expect(refused.headers["content-type"], query).toContain("application/problem+json");
    }
    expect(runner.queue.all().length).toBe(buildsBefore);
    expect([path.join(app.dir, "pwned"), path.join(app.config.stateDir, "pwned"), "pwned"].some((file) => existsSync(file))).toBe(false);
    expect((await open("source=web&commit=abcdef1234567")).statusCode).toBe(404);

    const alpha = await work.git(["rev-parse", "feature/alpha"]);
    const entry = await open(`source=web&commit=${alpha.slice(0, 9)}`);
    expect(entry.statusCode).toBe(202);
    const label = commitLabel("web", alpha);
    expect(entry.json().host).toBe(host(label));
    const built = await ended(entry.json().build.id);
    expect(built).toMatchObject({ state: "ready", commit: alpha });
    expect(app.engine.get(label)?.status).toBe("ready");
  });

  it("shows a failed build's failing lines and a rebuild button that builds it again", async () => {
    const label = branchLabel("web", "broken/one");
    const entry = await open("source=web&branch=broken/one");
    expect(entry.statusCode).toBe(202);
    expect(await ended(entry.json().build.id)).toMatchObject({ state: "failed" });
    const failed = await visit(label, "/", HTML);
    expect(failed.statusCode).toBe(502);
    expect(failed.body).toContain("The preview could not be built");
    expect(failed.body).toContain("MARKER-BROKEN-42");
    expect(failed.body).toContain('action="/__demo/rebuild"');
    expect((await app.viaNginx(VISITOR, { method: "POST", url: "/__demo/rebuild", headers: { host: host(label), origin: "http://evil.example" } })).statusCode).toBe(403);
    expect((await app.viaNginx(VISITOR, { method: "GET", url: "/__demo/rebuild", headers: { host: host(label) } })).statusCode).toBe(405);
    const rebuild = await app.viaNginx(VISITOR, { method: "POST", url: "/__demo/rebuild", headers: { host: host(label), origin: publicOrigin(app.config, host(label)) } });
    expect(rebuild.statusCode).toBe(303);
    const builds = runner.queue.all().filter((build) => build.branch === "broken/one");
    expect(builds.map((build) => build.id)).toHaveLength(2);
    expect(await ended(builds[1]!.id)).toMatchObject({ state: "failed" });
  });

  it("says on the page and in the API that the repository cannot be fetched, retries, and builds once it is back", async () => {
    const answer = await open("source=late&branch=main");
    expect(answer.statusCode).toBe(202);
    const { build, host: lateHost } = answer.json() as { build: { id: string }; host: string };
    const waiting = await runner.until(() => (runner.queue.get(build.id)?.note?.includes("could not be fetched") ? runner.queue.get(build.id) : undefined));
    expect(waiting!.note).toMatch(/trying again in \d+ s \(try 2 of 4\)/);
    expect((await api("GET", `/api/builds/${build.id}`)).json().note).toBe(waiting!.note);
    expect((await app.viaNginx(VISITOR, { url: "/", headers: { host: lateHost, ...HTML } })).body).toContain("could not be fetched");
    await rename(path.join(root, "late-ready.git"), lateRepo);
    expect(await ended(build.id)).toMatchObject({ state: "ready" });
  });

  it("queues a build (202), shares it (200), shows it and its log, cancels it, and answers bad requests in problem+json", async () => {
    const held = images.hold("feature/alpha");
    const first = await api("POST", "/api/builds", { source: "web", branch: "feature/alpha" });
    expect(first.statusCode).toBe(202);
    expect(first.headers["content-type"]).toContain("application/json");
    const id = (first.json() as { id: string }).id;
    expect(first.headers.location).toBe(`/api/builds/${id}`);
    expect((await api("POST", "/api/builds", { source: "web", branch: "feature/alpha" })).statusCode).toBe(200);
    await held;
    expect((await api("GET", `/api/builds/${id}`)).json()).toMatchObject({ id, source: "web", branch: "feature/alpha", state: "building", log: `/api/builds/${id}/log` });
    const log = await api("GET", `/api/builds/${id}/log`);
    expect(log.headers["content-type"]).toContain("text/plain");
    expect(log.body).toContain("log-line-3");
    expect((await api("GET", "/api/builds")).json().builds.map((entry: Build) => entry.id)).toContain(id);
    expect((await api("DELETE", `/api/builds/${id}`)).statusCode).toBe(204);
    expect(await buildOf(id)).toMatchObject({ state: "cancelled", reason: "it was cancelled" });
    expect((await api("DELETE", `/api/builds/${id}`)).statusCode).toBe(409);

    // A branch the repository does not have: 404 with the closest names, and no build queued.
    const typo = await api("POST", "/api/builds", { source: "web", branch: "feature/alpah" });
    expect(typo.statusCode).toBe(404);
    expect(typo.json()).toMatchObject({ branches: expect.arrayContaining(["feature/alpha"]) });
    expect(typo.json().branches[0]).toBe("feature/alpha");
    expect((await api("GET", "/api/builds")).json().builds.some((entry: Build) => entry.branch === "feature/alpah")).toBe(false);
    const unknown = await api("POST", "/api/builds", { source: "nope", branch: "main" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ detail: '"nope" is not a preview source here; sources: web, late.', allowed: ["web", "late"] });
    const hostile = await api("POST", "/api/builds", { source: "web", branch: "--upload-pack=touch /tmp/pwned" });
    expect(hostile.statusCode).toBe(400);
    expect(hostile.json().detail).toBe("\"--upload-pack=touch /tmp/pwned\" is not a valid ref: a branch name may not start with '-'.");
    expect((await api("POST", "/api/builds", { source: "web", branch: "main", commit: "abcdef1" })).statusCode).toBe(400);
    expect((await api("POST", "/api/builds", { source: "web", branch: "main", force: true })).json().detail).toBe('Unknown field "force"; allowed: source, branch, commit.');
    expect((await api("GET", "/api/builds/NOT_AN_ID")).statusCode).toBe(400);
    expect((await api("GET", "/api/builds/nosuchbuild")).statusCode).toBe(404);
    // Through nginx, without the admin token, builds are not for anyone to start or read.
    expect((await app.viaNginx(VISITOR, { method: "POST", url: "/api/builds", headers: { "content-type": "application/json" }, payload: JSON.stringify({ source: "web", branch: "main" }) })).statusCode).toBe(401);
    expect((await app.viaNginx(VISITOR, { url: "/api/builds" })).statusCode).toBe(401);
  });

  it("removes a preview with its image, keeping an image another host still serves", async () => {
    const main = await work.git(["rev-parse", "main"]);
    const branch = branchLabel("web", "main");
    const commit = commitLabel("web", main);
    for (const query of ["branch=main", `commit=${main}`]) {
      const entry = await open(`source=web&${query}`);
      if (entry.statusCode === 202) await ended(entry.json().build.id);
    }
    await app.engine.until(branch, (demo) => demo?.status === "ready");
    await app.engine.until(commit, (demo) => demo?.status === "ready");
    const removal = await api("DELETE", `/api/previews/${host(branch)}`);
    expect(removal.statusCode).toBe(200);
    expect(removal.json()).toMatchObject({ removed: true, removedImages: [], keptImages: [{ usedBy: [host(commit)] }] });
    const second = (await api("DELETE", `/api/previews/${host(commit)}`)).json() as { removedImages: string[] };
    expect(second.removedImages).toEqual([expect.stringMatching(/^demo-launcher-preview\/web:/)]);
    expect(images.removed).toEqual(second.removedImages);
    expect((await api("DELETE", `/api/previews/${host(branch)}`)).statusCode).toBe(404);
    expect((await api("DELETE", "/api/previews/not a host")).statusCode).toBe(400);
    // Its host builds it again on the next visit.
    expect((await visit(branch, "/", HTML)).statusCode).toBe(503);
    expect(runner.latestFor(branch)).toMatchObject({ branch: "main" });
    await runner.idle();
  });

  it("refuses a build past a full queue with 429 and Retry-After", async () => {
    const answers = [];
    for (let index = 1; index <= 6; index += 1) {
      await work.git(["checkout", "-q", "-b", `queue/q${index}`, "main"]);
      await work.commitPage(`queued ${index}`);
      void images.hold(`queue/q${index}`);
    }
    await work.git(["checkout", "-q", "main"]);
    for (let index = 1; index <= 6; index += 1) answers.push(await open(`source=web&branch=queue/q${index}`));
    expect(answers.map((answer) => answer.statusCode)).toEqual([202, 202, 202, 202, 202, 429]);
    expect(Number(answers[5]!.headers["retry-after"])).toBeGreaterThan(0);
    expect(answers[5]!.headers["content-type"]).toContain("application/problem+json");
    for (const build of runner.queue.all()) if (runner.queue.isActive(build)) await runner.cancel(build.id);
    await runner.idle();
  });

  it("answers a preview's own variables with problem+json for every bad body, and 404 for a host without a preview", async () => {
    const put = (payload: unknown) => api("PUT", `/api/previews/${host("web-main-0000000")}/env`, payload);
    const cases: Array<[unknown, string]> = [
      [{ FLAG: "on" }, 'Unknown field "FLAG"; allowed: env.'],
      [{ env: ["FLAG=on"] }, 'The body must be {"env": {"NAME": "value", ...}}'],
      [{ env: { "1FLAG": "on" } }, '"1FLAG" is not a variable name'],
      [{ env: { DEMO_URL: "x" } }, "DEMO_URL: DEMO_ variables are the preview's own"],
      [{ env: { FLAG: 1 } }, "FLAG must be text of at most 4096 characters, not 1."],
      [{ env: { FLAG: "x".repeat(4097) } }, "FLAG must be text of at most 4096 characters"],
      [{ env: Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`V${index}`, "x"])) }, "At most 64 variables, not 65."],
    ];
    for (const [payload, detail] of cases) {
      const answer = await put(payload);
      expect(answer.statusCode, JSON.stringify(payload).slice(0, 60)).toBe(400);
      expect(answer.headers["content-type"]).toContain("application/problem+json");
      expect(answer.json().detail).toContain(detail);
    }
    const missing = await put({ env: { FLAG: "on" } });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toContain("application/problem+json");
  });
});
