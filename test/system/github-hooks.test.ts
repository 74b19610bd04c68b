// GitHub webhooks for real (recorded payloads rewritten to local commits, git daemon with refs/pull/<n>/head,
// Docker, nginx): a pull request served at its host, pushes replacing it under load, newest wins, redeliveries
// done once, forks held back, closing removes everything, and bad deliveries refused without a build. And GitLab's
// merge requests beside them (documented payloads, refs/merge-requests/<iid>/head, a stand-in GitLab API).
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { deliver, EXAMPLE_REPO, pullRequestPayload, recorded } from "../support/github.js";
import { makeWorkRepo, SERVE_DOCKERFILE, serveWithGitDaemon, type WorkRepo } from "../support/git-repo.js";
import { startLoad } from "../support/load.js";
import { startFakeGithubApi, type FakeGithubApi } from "../support/github-api.js";
import { deliverGitlab, EXAMPLE_PROJECT, mergeRequestPayload, notePayload } from "../support/gitlab.js";
import { startFakeGitlabApi, type FakeGitlabApi } from "../support/gitlab-api.js";
import { CLI, startStack, waitFor, type Stack } from "../support/stack.js";
import { startController } from "../../src/app/controller.js";
import { silentLogger } from "../../src/logger.js";

const OLD_SECRET = "old-secret-0123456789";
const SECRET = "new-secret-0123456789";
const SOURCE = `g${Math.random().toString(36).slice(2, 7)}`;
const OTHER_REPO = "Codertocat/Other";
const GITLAB_TOKEN = "gitlab-secret-token-0123";

/** A GET through nginx with its body as bytes (an image). */
function bytesVia(port: number, host: string, requestPath: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const call = http.get({ host: "127.0.0.1", port, path: requestPath, headers: { host } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, type: String(response.headers["content-type"] ?? ""), body: Buffer.concat(chunks) }));
    });
    call.on("error", reject);
  });
}

describe("GitHub pull-request previews (real git daemon, Docker and nginx)", () => {
  let root: string;
  let work: WorkRepo;
  let daemon: Awaited<ReturnType<typeof serveWithGitDaemon>>;
  let bare: string;
  let stack: Stack;
  let api: FakeGithubApi;
  let gitlab: FakeGitlabApi;
  const statuses = (commit: string) => api.calls.filter((call) => call.method === "POST" && call.path.endsWith(`/statuses/${commit}`) && call.status === 201).map((call) => call.body);
  let clock = Date.parse("2026-11-23T10:00:00Z");
  const host = (pr: number) => `${SOURCE}-pr-${pr}.demo.localhost`;
  const page = async (pr: number) => (await stack.viaNginx(host(pr), "/")).body.trim();
  const builds = async () => (JSON.parse((await stack.api("GET", "/api/builds")).body) as { builds: Array<{ id: string; host?: string; commit?: string; state: string }> }).builds;
  /** A new commit on the pull request's branch, pushed to the served repository as GitHub keeps it. */
  const pushPr = async (pr: number, text: string, slow = false) => {
    // Each push goes on top of the last, as pushes to a pull request's branch do.
    await work.git(["checkout", "-q", `pr-${pr}`]).catch(() => work.git(["checkout", "-q", "-b", `pr-${pr}`, "main"]));
    let commit = await work.commitPage(text);
    if (slow) {
      // A build that takes a few seconds, so the pushes of a burst arrive while it runs.
      await writeFile(path.join(work.dir, "Dockerfile"), SERVE_DOCKERFILE.replace("COPY index.html", 'RUN ["/bin/busybox", "sleep", "3"]\nCOPY index.html'));
      await work.git(["commit", "-q", "-am", `${text} (slow build)`]);
      commit = await work.git(["rev-parse", "HEAD"]);
    }
    await execa("git", ["push", "-q", "-f", bare, `${commit}:refs/pull/${pr}/head`], { cwd: work.dir });
    await work.git(["checkout", "-q", "main"]);
    return commit;
  };
  /** Sends a pull_request event, and keeps the stand-in API's list of open pull requests as GitHub would. */
  const event = async (action: string, pr: number, commit: string, options: { fork?: boolean; labels?: string[]; at?: number; author?: string; repo?: string } = {}) => {
    const payload = pullRequestPayload(action, pr, commit, new Date(options.at ?? (clock += 1000)), options);
    const repo = options.repo ?? EXAMPLE_REPO;
    const open = (api.openPulls.get(repo) ?? []).filter((pull) => pull.number !== pr);
    if (action !== "closed") open.push({ number: pr, head: { sha: commit, repo: { full_name: payload.pull_request.head.repo.full_name } }, updated_at: payload.pull_request.updated_at, labels: options.labels?.map((name) => ({ name })) ?? [], user: { login: options.author ?? "Codertocat" } });
    api.openPulls.set(repo, open);
    return deliver(stack.nginxPort, "pull_request", payload, SECRET);
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-github-"));
    work = await makeWorkRepo(path.join(root, "work"));
    daemon = await serveWithGitDaemon(work, root);
    api = await startFakeGithubApi();
    gitlab = await startFakeGitlabApi();
    bare = daemon.bare;
    stack = await startStack({
      nginxYaml: "  drain: 1s",
      extraYaml: `github:\n  webhookSecrets: [${OLD_SECRET}, ${SECRET}]\n  apiUrl: ${api.url}\n  token: test-token\n  repos:\n    ${EXAMPLE_REPO}: { name: ${SOURCE}, repo: ${JSON.stringify(daemon.url)}, port: 8080, readiness: { path: /, timeout: 20s }, trust: "label:safe" }\n    ${OTHER_REPO}: { name: ${SOURCE}c, repo: ${JSON.stringify(daemon.url)}, port: 8080, readiness: { path: /, timeout: 20s } }\ngitlab:\n  webhookSecrets: [${GITLAB_TOKEN}]\n  apiUrl: ${gitlab.url}\n  token: glpat-test\n  projects:\n    ${EXAMPLE_PROJECT}: { name: ${SOURCE}l, repo: ${JSON.stringify(daemon.url)}, port: 8080, readiness: { path: /, timeout: 20s }, screenshots: [/] }`,
    });
  });
  afterAll(async () => {
    await stack?.close();
    await daemon?.stop();
    await api?.close();
    await gitlab?.close();
    const images = await stack?.docker.listImages({ filters: { reference: [`${PREVIEW_IMAGE_REPO}/${SOURCE}`, `${PREVIEW_IMAGE_REPO}/${SOURCE}c`, `${PREVIEW_IMAGE_REPO}/${SOURCE}l`] } });
    for (const image of images ?? []) await stack.docker.getImage(image.Id).remove({ force: true }).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("serves an opened pull request at its host, once however often the delivery comes, and answers ping", async () => {
    expect((await deliver(stack.nginxPort, "ping", recorded("ping"), OLD_SECRET)).body).toContain('"pong":true');
    // The form-encoded kind of webhook: the payload in a `payload` field, signed as sent.
    const form = `payload=${encodeURIComponent(JSON.stringify(recorded("ping")))}`;
    const formPing = await deliver(stack.nginxPort, "ping", undefined, SECRET, { body: form, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(formPing.status, formPing.body).toBe(200);
    const commit = await pushPr(1, "pr one");
    const opened = await event("opened", 1, commit);
    expect(opened.status).toBe(202);
    for (let again = 0; again < 2; again += 1) {
      const redelivered = await deliver(stack.nginxPort, "pull_request", pullRequestPayload("opened", 1, commit, new Date(clock)), SECRET, { id: opened.id });
      expect(redelivered.status).toBe(200);
      expect(JSON.parse(redelivered.body)).toMatchObject({ duplicate: true });
    }
    await waitFor("the pull request's preview", async () => (await page(1)) === "pr one", 60_000, 200);
    expect((await builds()).filter((build) => build.host === `${SOURCE}-pr-1`)).toHaveLength(1);
    // Reported back: pending, then success with the preview's URL, and one comment with the URL.
    const url = `http://${host(1)}:${stack.nginxPort}/`;
    await waitFor("the success status", async () => statuses(commit).some((status) => status.state === "success"), 15_000, 100);
    expect(statuses(commit).map((status) => [status.state, status.context])).toEqual([["pending", "demo-launcher/preview"], ["success", "demo-launcher/preview"]]);
    expect(statuses(commit)[1]!.target_url).toBe(url);
    await waitFor("the comment", async () => api.comments.size === 1, 15_000, 100);
    expect([...api.comments.values()][0]!.body).toContain(url);
    const deliveries = JSON.parse((await stack.api("GET", "/api/deliveries")).body) as { deliveries: Array<{ id: string; received: number; outcome: string }> };
    expect(deliveries.deliveries.find((delivery) => delivery.id === opened.id)).toMatchObject({ received: 3, outcome: "queued" });
  });

  it("replaces it on every push with no failed request, coalesces a burst, and never lets an older commit win", async () => {
    // Ready once nginx confirmed the route (until then old workers may still answer with the starting page).
    await waitFor("the preview to be ready", async () => (JSON.parse((await stack.api("GET", `/api/demos/${SOURCE}-pr-1`)).body) as { status: string }).status === "ready", 30_000, 50);
    const load = startLoad(stack.nginxPort, host(1), { pauseMs: 10 });
    let newest = "";
    try {
      const before = (await builds()).length;
      // Five pushes within a few seconds: one build runs, the others fold into one queued build of the newest.
      for (let push = 1; push <= 5; push += 1) {
        newest = await pushPr(1, `push ${push}`, true);
        expect((await event("synchronize", 1, newest)).status).toBe(202);
      }
      await waitFor("the newest push served", async () => (await page(1)) === "push 5", 60_000, 200);
      // The one comment is edited in place, never a second one.
      await waitFor("the comment to name the newest commit", async () => [...api.comments.values()].some((comment) => comment.body.includes(newest.slice(0, 12))), 15_000, 100);
      expect([...api.comments.values()].filter((comment) => comment.issue === `${EXAMPLE_REPO}#1`)).toHaveLength(1);
      expect(api.calls.filter((call) => call.method === "POST" && call.path.endsWith("/issues/1/comments"))).toHaveLength(1);
      // Every delivery acted on and every build ended: nothing more is coming.
      await stack.controller!.settled();
      expect((await builds()).length - before).toBeLessThanOrEqual(2);
      // An event older than the newest (GitHub does not promise order) changes nothing.
      const stale = await pushPr(2, "stale");
      expect((await event("synchronize", 1, stale, { at: clock - 60_000 })).status).toBe(202);
      await stack.controller!.settled();
      expect(await page(1)).toBe("push 5");
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([]);
    // Served across at least one switch, every request answered by one of the pushes.
    const bodies = load.answers.map((answer) => answer.body.trim());
    expect(new Set(bodies).size).toBeGreaterThanOrEqual(2);
    expect(bodies.at(-1)).toBe("push 5");
  });

  it("holds back a fork's pull request until it has the trusted label, and removes everything when it closes", async () => {
    const commit = await pushPr(3, "from a fork");
    const untrusted = await event("opened", 3, commit, { fork: true });
    expect(untrusted.status).toBe(202);
    await waitFor("the delivery to be settled", async () => {
      const list = JSON.parse((await stack.api("GET", "/api/deliveries")).body) as { deliveries: Array<{ id: string; outcome: string; reason?: string }> };
      const found = list.deliveries.find((delivery) => delivery.id === untrusted.id);
      return found?.outcome === "ignored" && /label safe/.test(found.reason ?? "");
    }, 30_000, 100);
    expect((await builds()).some((build) => build.host === `${SOURCE}-pr-3`)).toBe(false);
    await waitFor("the refusal's status", async () => statuses(commit).some((status) => status.state === "error" && /label safe/.test(status.description)), 15_000, 100);
    await event("reopened", 3, commit, { fork: true, labels: ["safe"] });
    await waitFor("the labelled fork's preview", async () => (await page(3)) === "from a fork", 60_000, 200);

    const image = `${PREVIEW_IMAGE_REPO}/${SOURCE}:${commit.slice(0, 12)}`;
    expect((await event("closed", 3, commit, { fork: true })).status).toBe(202);
    await waitFor("the closed pull request's preview to be gone", async () => {
      const containers = await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${SOURCE}-pr-3`] } });
      const imageGone = await stack.docker.getImage(image).inspect().then(() => false, () => true);
      const routed = (await stack.viaNginx(host(3), "/")).status === 200;
      return containers.length === 0 && imageGone && !routed;
    }, 30_000, 200);
  });

  it("refuses a delivery larger than GitHub sends, through nginx, without a build (the rest: test/http/webhooks.test.ts)", async () => {
    const before = (await builds()).length;
    const huge = await deliver(stack.nginxPort, "pull_request", undefined, SECRET, { body: `{"pad":"${"x".repeat(26 * 1024 * 1024)}"}` });
    expect(huge.status).toBe(413);
    await stack.controller!.settled();
    expect((await builds()).length).toBe(before);
  });

  it("lists deliveries in the CLI, and acts after a restart on a delivery written but not yet acted on", async () => {
    const cli = await execa("node", [CLI, "--config", stack.configFile, "deliveries"], { reject: false, all: true });
    expect(cli.exitCode, cli.all).toBe(0);
    expect(cli.stdout).toMatch(/pull_request\s+queued\s+Codertocat\/Hello-World #1 [0-9a-f]{12}\s+build \S+ \(sent 3 times\)/);

    // The controller stops between writing a delivery and acting on it: the next start acts on it.
    await stack.controller!.close();
    const commit = await pushPr(5, "after a restart");
    const id = "restart-0000-1111";
    const payload = JSON.stringify(pullRequestPayload("opened", 5, commit, new Date((clock += 1000))));
    // GitHub lists it as open (the reconciler, which also runs at start, must leave it alone).
    api.openPulls.get(EXAMPLE_REPO)!.push({ number: 5, head: { sha: commit, repo: { full_name: EXAMPLE_REPO } }, updated_at: new Date(clock).toISOString(), labels: [], user: { login: "Codertocat" } });
    const stateDir = path.join(stack.dir, "state");
    const file = path.join(stateDir, "deliveries.json");
    const saved = JSON.parse(await readFile(file, "utf8")) as { deliveries: unknown[] };
    saved.deliveries.push({ id, event: "pull_request", receivedAt: Date.now(), outcome: "received", repo: EXAMPLE_REPO, pr: 5, commit, received: 1 });
    await writeFile(file, JSON.stringify(saved));
    await mkdir(path.join(stateDir, "deliveries"), { recursive: true });
    await writeFile(path.join(stateDir, "deliveries", `${id}.json`), payload);
    stack.controller = await startController(stack.config, { logger: silentLogger, docker: stack.docker });
    await waitFor("the preview of the delivery the restart found", async () => (await page(5)) === "after a restart", 60_000, 200);
  });

  it("builds a fork's pull request for a collaborator GitHub vouches for, not for anyone else", async () => {
    const commit = await pushPr(11, "fork of a collaborator");
    expect((await event("opened", 11, commit, { fork: true, author: "eve", repo: OTHER_REPO })).status).toBe(202);
    await waitFor("the refusal's status", async () => statuses(commit).some((status) => status.state === "error" && /eve has no write access/.test(status.description)), 15_000, 100);
    api.writers.add("ann");
    expect((await event("reopened", 11, commit, { fork: true, author: "ann", repo: OTHER_REPO })).status).toBe(202);
    await waitFor("the collaborator's preview", async () => (await stack.viaNginx(`${SOURCE}c-pr-11.demo.localhost`, "/")).body.trim() === "fork of a collaborator", 60_000, 200);
    const containers = await stack.docker.listContainers({ filters: { label: [`demo-launcher.id=${SOURCE}c-pr-11`] } });
    expect(containers[0]!.Labels).toMatchObject({ "demo-launcher.repo": OTHER_REPO, "demo-launcher.pr": "11", "demo-launcher.commit": commit });
  });

  it("cleans up a pull request closed while the controller was down, and builds one opened meanwhile (reconciler)", async () => {
    const closedLater = await pushPr(7, "closed while down");
    await event("opened", 7, closedLater);
    await waitFor("pull request 7's preview", async () => (await page(7)) === "closed while down", 60_000, 200);
    await stack.controller!.close();
    const openedMeanwhile = await pushPr(8, "opened while down");
    // While it was down: #7 was closed (the webhook never arrived), #8 was opened.
    const open = (api.openPulls.get(EXAMPLE_REPO) ?? []).filter((pull) => pull.number !== 7);
    open.push({ number: 8, head: { sha: openedMeanwhile, repo: { full_name: EXAMPLE_REPO } }, updated_at: new Date((clock += 1000)).toISOString(), labels: [], user: { login: "Codertocat" } });
    api.openPulls.set(EXAMPLE_REPO, open);
    stack.controller = await startController(stack.config, { logger: silentLogger, docker: stack.docker });
    await waitFor("pull request 7's preview to be removed", async () => (await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${SOURCE}-pr-7`] } })).length === 0, 30_000, 200);
    await waitFor("pull request 8's preview", async () => (await page(8)) === "opened while down", 60_000, 200);
    // The open ones stayed.
    expect(await page(1)).toBe("push 5");
  });

  it("removes a branch's preview when a push deletes the branch", async () => {
    await work.git(["checkout", "-q", "-b", "feature/gone", "main"]);
    await work.commitPage("doomed branch");
    await work.git(["checkout", "-q", "main"]);
    await daemon.sync();
    const opened = await stack.viaNginx("demo.localhost", `/preview?source=${SOURCE}&branch=feature/gone`);
    const branchHost = (JSON.parse(opened.body) as { host: string }).host;
    await waitFor("the branch preview", async () => (await stack.viaNginx(branchHost, "/")).body.trim() === "doomed branch", 60_000, 200);
    const push = { ...recorded("push"), ref: "refs/heads/feature/gone", deleted: true };
    expect((await deliver(stack.nginxPort, "push", push, SECRET)).status).toBe(202);
    await waitFor("the branch preview to be removed", async () => (await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.host=${branchHost}`] } })).length === 0, 30_000, 200);
  });

  it("serves a GitLab merge request at its host, edits its one note in place (past a 429) with screenshots, runs its comment commands, and removes it when merged", async () => {
    const mergeRequestHost = `${SOURCE}l-mr-4.demo.localhost`;
    /** A commit on the merge request's branch, pushed where GitLab keeps merge requests' heads. */
    const pushMergeRequest = async (text: string) => {
      await work.git(["checkout", "-q", "mr-4"]).catch(() => work.git(["checkout", "-q", "-b", "mr-4", "main"]));
      const commit = await work.commitPage(text);
      await execa("git", ["push", "-q", "-f", bare, `${commit}:refs/merge-requests/4/head`], { cwd: work.dir });
      await work.git(["checkout", "-q", "main"]);
      return commit;
    };
    // GitLab lists it as open meanwhile (the reconciler must leave it alone).
    const listOpen = (commit: string) => gitlab.openMergeRequests.set(EXAMPLE_PROJECT, [{ iid: 4, sha: commit, source_project_id: 14, target_project_id: 14, updated_at: new Date(clock).toISOString(), labels: [], author: { id: 51, username: "dev" } }]);
    const gitlabStatuses = (commit: string) => gitlab.calls.filter((call) => call.method === "POST" && call.path.endsWith(`/statuses/${commit}`) && call.status === 201).map((call) => call.body);
    const first = await pushMergeRequest("mr one");
    listOpen(first);
    expect((await deliverGitlab(stack.nginxPort, "Merge Request Hook", mergeRequestPayload("open", 4, first, new Date((clock += 1000))), "not-the-token")).status).toBe(401);
    expect((await deliverGitlab(stack.nginxPort, "Merge Request Hook", mergeRequestPayload("open", 4, first, new Date((clock += 1000))), GITLAB_TOKEN)).status).toBe(202);
    await waitFor("the merge request's preview", async () => (await stack.viaNginx(mergeRequestHost, "/")).body.trim() === "mr one", 60_000, 200);
    const url = `http://${mergeRequestHost}:${stack.nginxPort}/`;
    await waitFor("the success status", async () => gitlabStatuses(first).some((status) => status.state === "success"), 15_000, 100);
    expect(gitlabStatuses(first).map((status) => [status.state, status.name])).toEqual([["pending", "demo-launcher/preview"], ["success", "demo-launcher/preview"]]);
    expect(gitlabStatuses(first)[1]!.target_url).toBe(url);
    await waitFor("the note", async () => gitlab.notes.size === 1, 15_000, 100);
    expect([...gitlab.notes.values()][0]).toMatchObject({ mergeRequest: `${EXAMPLE_PROJECT}!4`, body: expect.stringContaining(`It follows this merge request`) });
    expect(gitlab.calls.every((call) => call.token === "glpat-test")).toBe(true);
    // Its page in both viewports, taken by Chromium once it was ready, as a table in the same note, served under the apex.
    await waitFor("the screenshots in the note", async () => [...gitlab.notes.values()].some((note) => note.body.includes(`**Screenshots** of ${first.slice(0, 12)}`)), 60_000, 200);
    const note = [...gitlab.notes.values()][0]!.body;
    const shots = [...note.matchAll(/!\[\/ on a (desktop|phone)\]\((http:\/\/demo\.localhost:\d+(\/previews\/[^)]+\.png))\)/g)].map((match) => ({ viewport: match[1]!, path: match[3]! }));
    expect(shots.map((shot) => shot.viewport), note).toEqual(["desktop", "phone"]);
    for (const shot of shots) {
      const png = await bytesVia(stack.nginxPort, "demo.localhost", shot.path);
      expect(png.status).toBe(200);
      expect(png.type).toBe("image/png");
      expect(png.body.subarray(1, 4).toString("latin1")).toBe("PNG");
      // Its width and height, from the PNG's header: the viewport's.
      expect([png.body.readUInt32BE(16), png.body.readUInt32BE(20)]).toEqual(shot.viewport === "desktop" ? [1280, 800] : [390, 844]);
    }

    // A push: GitLab sends update with oldrev. Its API refuses the next call once (429, Retry-After: 1).
    const second = await pushMergeRequest("mr two");
    listOpen(second);
    gitlab.failNext(1, 429, { "retry-after": "1" });
    expect((await deliverGitlab(stack.nginxPort, "Merge Request Hook", mergeRequestPayload("update", 4, second, new Date((clock += 1000)), { oldrev: first }), GITLAB_TOKEN)).status).toBe(202);
    await waitFor("the pushed commit served", async () => (await stack.viaNginx(mergeRequestHost, "/")).body.trim() === "mr two", 60_000, 200);
    await waitFor("the note to name the new commit", async () => [...gitlab.notes.values()].some((note) => note.body.includes(second.slice(0, 12))), 15_000, 100);
    expect(gitlab.notes.size).toBe(1);
    expect(gitlab.calls.filter((call) => call.method === "POST" && call.path.endsWith("/merge_requests/4/notes"))).toHaveLength(1);
    expect(gitlab.calls.some((call) => call.status === 429)).toBe(true);

    // Comment commands from a member who may push (Developer), answered in the same note.
    gitlab.members.set(51, 30);
    const command = async (text: string) => {
      expect((await deliverGitlab(stack.nginxPort, "Note Hook", notePayload(4, text, { userId: 51, username: "dev" }), GITLAB_TOKEN)).status).toBe(202);
      await stack.controller!.settled();
      await waitFor(`the answer to ${text}`, async () => [...gitlab.notes.values()].some((note) => note.body.includes(`**${text}** (@dev)`)), 15_000, 100);
      expect(gitlab.notes.size).toBe(1);
      return [...gitlab.notes.values()][0]!.body;
    };
    const view = async () => JSON.parse((await stack.api("GET", `/api/demos/${SOURCE}l-mr-4`)).body) as { status: string; expiresAt: string };
    expect(await command("/demo-launcher stop")).toContain("stopped; its data is kept");
    expect((await view()).status).toBe("asleep");
    await waitFor("a visit to wake it", async () => (await stack.viaNginx(mergeRequestHost, "/")).body.trim() === "mr two", 60_000, 200);
    const before = Date.parse((await view()).expiresAt);
    expect(await command("/demo-launcher extend 2d")).toContain("it now ends at");
    expect(Date.parse((await view()).expiresAt)).toBe(before + 2 * 86_400_000);
    expect(await command("/demo-launcher share 1d")).toContain("could not be done: the preview is public");
    const earlier = new Set((await builds()).filter((build) => build.host === `${SOURCE}l-mr-4`).map((build) => build.id));
    expect(await command("/demo-launcher redeploy")).toContain(`building ${second.slice(0, 12)} again`);
    await waitFor("the redeployed build to be served", async () => (await builds()).some((build) => build.host === `${SOURCE}l-mr-4` && !earlier.has(build.id) && build.commit === second && build.state === "ready"), 60_000, 200);
    expect((await stack.viaNginx(mergeRequestHost, "/")).body.trim()).toBe("mr two");
    expect([...gitlab.notes.values()][0]!.body).toContain("**Preview** of");

    gitlab.openMergeRequests.set(EXAMPLE_PROJECT, []);
    expect((await deliverGitlab(stack.nginxPort, "Merge Request Hook", mergeRequestPayload("merge", 4, second, new Date((clock += 1000))), GITLAB_TOKEN)).status).toBe(202);
    await waitFor("the merged merge request's preview to be gone", async () => {
      const containers = await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${SOURCE}l-mr-4`] } });
      return containers.length === 0 && (await stack.viaNginx(mergeRequestHost, "/")).status !== 200;
    }, 30_000, 200);
    // The note says so and why, without the screenshots, which went with the preview.
    await waitFor("the note to say the preview was removed", async () => [...gitlab.notes.values()][0]!.body.includes("**Preview** removed: its merge request was closed"), 15_000, 100);
    expect([...gitlab.notes.values()][0]!.body).not.toContain("**Screenshots**");
    await waitFor("the screenshots to be gone", async () => !(await stat(path.join(stack.dir, "state", "screens", `${SOURCE}l-mr-4`)).then(() => true, () => false)), 30_000, 100);
  });
});
