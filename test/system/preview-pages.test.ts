// Previews as people meet them, for real (git, Docker, nginx): the entry URL, the build page with its live log
// through nginx, idle stop and wake, and removal with the image. Refusals, failed builds, rebuilds, an unreachable
// repository and a full queue are checked over HTTP on scripted builds (test/http/previews.test.ts).
import { startLoad } from "../support/load.js";
import { SEEN_LOG_LAG_MS } from "../../src/nginx/seen-log.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { branchLabel, commitLabel } from "../../src/core/previews/preview-names.js";
import { makeWorkRepo, type WorkRepo } from "../support/git-repo.js";
import { logText, readEvents } from "../support/sse.js";
import { untilPast, startStack, waitFor, type Stack } from "../support/stack.js";

const tag = Math.random().toString(36).slice(2, 7);
const WEB = `w${tag}`;
const IDLE = `i${tag}`;
const HTML = { accept: "text/html" };

describe("preview pages and the entry URL (real git, Docker and nginx)", () => {
  let root: string;
  let work: WorkRepo;
  let stack: Stack;
  // The controller's last lines, for the message of a failure that only a loaded machine shows.
  const logLines: string[] = [];
  const keepLine = (level: string) => (message: string) => {
    logLines.push(`${new Date().toISOString()} ${level} ${message}`);
    if (logLines.length > 60) logLines.shift();
  };
  const host = (label: string) => `${label}.demo.localhost`;
  const api = async <T>(method: string, url: string, body?: unknown) => JSON.parse((await stack.api(method, url, body)).body) as T;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-preview-pages-"));
    work = await makeWorkRepo(path.join(root, "work"));
    await work.git(["checkout", "-q", "-b", "feature/slow-log"]);
    await writeFile(path.join(work.dir, "Dockerfile"), 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo log-line-$i; sleep 0.4; done"]\nCOPY index.html /www/index.html\nUSER 65534:65534\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n');
    await writeFile(path.join(work.dir, "index.html"), "slow log\n");
    await work.git(["commit", "-q", "-am", "slow log"]);
    await work.git(["checkout", "-q", "main"]);
    const source = (name: string, repo: string, extra = "") => `  ${name}: { repo: ${JSON.stringify(repo)}, port: 8080, readiness: { path: /, timeout: 20s }, refresh: 1s${extra} }\n`;
    stack = await startStack({
      nginxYaml: "  drain: 1s",
      logger: { info: keepLine("info"), warn: keepLine("warn"), error: keepLine("error") },
      extraYaml: `previews:\n${source(WEB, `file://${work.dir}`)}${source(IDLE, work.dir, ", idleStop: 3s")}builds: { concurrency: 2, queueLength: 3, timeout: 2m }`,
    });
  });
  afterAll(async () => {
    await stack?.close();
    const images = await stack?.docker.listImages({ filters: { label: ["demo-launcher.source"] } });
    for (const image of images ?? []) {
      if (image.RepoTags?.some((name) => [WEB, IDLE].some((source) => name.startsWith(`${PREVIEW_IMAGE_REPO}/${source}:`)))) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    }
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("sends a person to the branch's host at once; its page follows the build's log live (resuming after a reconnect) and turns into the app", async () => {
    const entry = await stack.viaNginx("demo.localhost", `/preview?source=${WEB}&branch=${encodeURIComponent("feature/slow-log")}`, { headers: HTML });
    const label = branchLabel(WEB, "feature/slow-log");
    expect(entry.status).toBe(303);
    expect(entry.headers.location).toBe(`http://${host(label)}:${stack.nginxPort}/`);
    const page = await stack.viaNginx(host(label), "/", { headers: HTML });
    expect(page.status).toBe(503);
    expect(page.body).toMatch(/Building the preview|Fetching|Waiting for a free builder/);
    expect(page.body).toContain('href="/__demo/build.log"');

    // The log as it grows; the connection drops after line 3 and resumes from its last event id.
    const first = await readEvents(stack.nginxPort, host(label), "/__demo/build-events", {}, (events) => logText(events).includes("log-line-3"));
    const lastId = first.filter((event) => event.event === "log").at(-1)!.id!;
    const rest = await readEvents(stack.nginxPort, host(label), "/__demo/build-events", { "last-event-id": lastId }, (events) => events.some((event) => event.event === "state" && JSON.parse(event.data).state === "ready"));
    const before = logText(first);
    const after = logText(rest);
    expect(before).toContain("log-line-1");
    expect(after).not.toContain("log-line-1\n");
    expect(after).toContain("log-line-8");
    expect(Number(rest.find((event) => event.event === "log")!.id)).toBeGreaterThan(Number(lastId));
    // Ready means served: the same address is the app now.
    expect((await stack.viaNginx(host(label), "/")).body.trim()).toBe("slow log");
    const whole = await stack.viaNginx(host(label), "/__demo/build.log");
    expect(whole.body).toContain("log-line-8");

    // The next visit of the same commit is served at once, without a build.
    const buildsBefore = (await api<{ builds: unknown[] }>("GET", "/api/builds")).builds.length;
    const again = await stack.viaNginx("demo.localhost", `/preview?source=${WEB}&branch=${encodeURIComponent("feature/slow-log")}`);
    expect(again.status).toBe(200);
    expect((await api<{ builds: unknown[] }>("GET", "/api/builds")).builds.length).toBe(buildsBefore);
  });

  it("stops an idle preview (nginx's requests count), wakes it on the next request, and removes it with its image", async () => {
    const label = branchLabel(IDLE, "main");
    await stack.viaNginx("demo.localhost", `/preview?source=${IDLE}&branch=main`);
    await waitFor("the preview to serve", async () => (await stack.viaNginx(host(label), "/")).body.trim() === "main", 60_000, 200);
    // Previews are routed while they start: the idle clock (3 s here) starts when it is ready.
    await waitFor("the preview to be ready", async () => (await api<{ status: string }>("GET", `/api/demos/${label}`)).status === "ready", 20_000, 100);
    // Requests through nginx keep it awake past its idle stop (3 s), and past the time the log takes to be read.
    const load = startLoad(stack.nginxPort, host(label), { pauseMs: 300 });
    try {
      await untilPast(Date.now() + 3000 + SEEN_LOG_LAG_MS);
    } finally {
      await load.stop();
    }
    const notServed = [...load.failures.map((failure) => failure.error), ...load.answers.filter((answer) => answer.status !== 200).map((answer) => `${answer.status}: ${answer.body.slice(0, 300)}`)];
    if (notServed.length > 0) throw new Error(`requests to the preview were not served: ${notServed.join("; ")}\npreview: ${(await stack.api("GET", `/api/demos/${label}`)).body}\ncontroller:\n${logLines.join("\n")}`);
    expect((await api<{ status: string }>("GET", `/api/demos/${label}`)).status).toBe("ready");
    const asleep = await waitFor("the idle preview to sleep", async () => {
      const view = await api<{ status: string; instances?: Array<{ id: string }> }>("GET", `/api/demos/${label}`);
      return view.status === "asleep" ? view : undefined;
    }, 20_000, 250);
    expect(asleep.status).toBe("asleep");
    // Stopped, not removed: one container, exited.
    await waitFor("its container to stop", async () => {
      const containers = await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${label}`] } });
      return containers.length === 1 && containers[0]!.State === "exited";
    }, 30_000, 200);

    const waking = await stack.viaNginx(host(label), "/", { headers: HTML });
    expect(waking.status).toBe(503);
    expect(waking.body).toContain("Waking the preview up");
    await waitFor("the woken preview to serve", async () => (await stack.viaNginx(host(label), "/")).body.trim() === "main", 30_000, 100);

    // The commit's own host serves the same image once opened: the image is kept until that host goes too.
    const commitHost = host(commitLabel(IDLE, await work.git(["rev-parse", "main"])));
    await waitFor("the commit host to serve", async () => (await stack.viaNginx(commitHost, "/")).body.trim() === "main", 60_000, 200);
    const removal = await stack.api("DELETE", `/api/previews/${host(label)}`);
    expect(removal.status).toBe(200);
    expect(JSON.parse(removal.body)).toMatchObject({ removed: true, removedImages: [], keptImages: [{ usedBy: [commitHost] }] });
    const second = await stack.api("DELETE", `/api/previews/${commitHost}`);
    const removed = JSON.parse(second.body) as { removedImages: string[] };
    expect(removed.removedImages).toHaveLength(1);
    await expect(stack.docker.getImage(removed.removedImages[0]!).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${label}`] } })).toEqual([]);
    expect((await stack.api("DELETE", `/api/previews/${host(label)}`)).status).toBe(404);
    // Its host builds it again on the next visit.
    expect((await stack.viaNginx(host(label), "/", { headers: HTML })).status).toBe(503);
    await waitFor("the rebuilt preview", async () => (await stack.viaNginx(host(label), "/")).body.trim() === "main", 60_000, 200);
  });
});
