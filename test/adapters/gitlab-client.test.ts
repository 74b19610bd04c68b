// The GitLab client, the outbox and the reconciler against a stand-in GitLab API (a local server): the token in
// PRIVATE-TOKEN, statuses in GitLab's words, one note per merge request found again by its marker after a restart
// and edited in place, a 429 waited out as Retry-After says, open merge requests built and closed ones removed.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildQueue } from "../../src/core/builds/build-queue.js";
import { ManualScheduler } from "../../src/core/scheduler.js";
import type { ForgeIntent } from "../../src/core/forges/forge-intent.js";
import { GitlabApi } from "../../src/forges/gitlab/api.js";
import { COMMENT_MARKER, Outbox } from "../../src/forges/outbox.js";
import { PullRequestReconciler } from "../../src/forges/reconciler.js";
import { silentLogger } from "../../src/logger.js";
import { startFakeGitlabApi, type FakeGitlabApi } from "../support/gitlab-api.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const PROJECT = "shop/sub/web";
const ENCODED = "shop%2Fsub%2Fweb";

describe("GitLab client, outbox and reconciler (stand-in API)", () => {
  let api: FakeGitlabApi;
  let dir: string;
  beforeAll(async () => {
    api = await startFakeGitlabApi();
    dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-gitlab-client-"));
  });
  afterAll(async () => {
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("posts statuses in GitLab's words, keeps one note per merge request across a restart, and waits out a 429", async () => {
    const client = new GitlabApi(api.url, "glpat-test-token");
    const stateDir = path.join(dir, "outbox");
    const scheduler = new ManualScheduler(1_000_000);
    const first = new Outbox({ api: client, stateDir, logger: silentLogger, scheduler });
    await first.start();
    await first.send({ kind: "status", repo: PROJECT, commit: SHA, state: "pending", description: "Building" });
    await first.send({ kind: "status", repo: PROJECT, commit: "f".repeat(40), state: "failure", description: "x".repeat(300), targetUrl: "http://shop-mr-4.demo.localhost/__demo/build.log" });
    await first.send({ kind: "comment", repo: PROJECT, pr: 4, body: "first" });
    await first.flushed();
    await first.close();
    expect(api.calls.filter((call) => call.path.includes("/statuses/")).map((call) => [call.path, call.body.state, call.body.name])).toEqual([
      [`/api/v4/projects/${ENCODED}/statuses/${SHA}`, "pending", "demo-launcher/preview"],
      [`/api/v4/projects/${ENCODED}/statuses/${"f".repeat(40)}`, "failed", "demo-launcher/preview"],
    ]);
    expect(api.calls.find((call) => call.body.state === "failed")!.body).toMatchObject({ target_url: "http://shop-mr-4.demo.localhost/__demo/build.log", description: "x".repeat(255) });
    expect(api.calls.every((call) => call.token === "glpat-test-token")).toBe(true);

    // A new outbox that lost the note's id (its file is gone) finds the note by its marker; GitLab first refuses.
    await writeFile(path.join(stateDir, "gitlab-outbox.json"), "{}");
    const second = new Outbox({ api: client, stateDir, logger: silentLogger, scheduler, firstRetryMs: 2000 });
    await second.start();
    api.failNext(1, 429, { "retry-after": "30" });
    await second.send({ kind: "comment", repo: PROJECT, pr: 4, body: "second" });
    await second.flushed();
    expect(second.pending()).toHaveLength(1);
    // Not before GitLab's 30 s: 29 s on, nothing was tried again.
    const callsBefore = api.calls.length;
    await scheduler.advance(29_000);
    await second.flushed();
    expect(api.calls.length).toBe(callsBefore);
    await scheduler.advance(1_000);
    await second.flushed();
    expect(second.pending()).toEqual([]);
    await second.close();
    const ours = [...api.notes.values()].filter((note) => note.mergeRequest === `${PROJECT}!4`);
    expect(ours).toEqual([{ mergeRequest: `${PROJECT}!4`, body: `${COMMENT_MARKER}\nsecond` }]);
    expect(api.calls.filter((call) => call.method === "POST" && call.path.endsWith("/notes"))).toHaveLength(1);
    expect(api.calls.filter((call) => call.method === "PUT" && call.path.includes("/merge_requests/4/notes/"))).toHaveLength(1);
  });

  it("answers who may push from membership (Developer or above), and lists open merge requests for the reconciler", async () => {
    const client = new GitlabApi(`${api.url}/`, "glpat-test-token");
    api.members.set(7, 30).set(8, 20);
    expect(await client.canPush(PROJECT, { name: "dev", id: 7 })).toBe(true);
    expect(await client.canPush(PROJECT, { name: "reporter", id: 8 })).toBe(false);
    expect(await client.canPush(PROJECT, { name: "stranger", id: 9 })).toBe(false);
    expect(await client.canPush(PROJECT, { name: "no id" })).toBeUndefined();
    api.failNext(1, 502);
    expect(await client.canPush(PROJECT, { name: "dev", id: 7 })).toBeUndefined();

    api.openMergeRequests.set(PROJECT, [
      { iid: 2, sha: SHA, source_project_id: 1, target_project_id: 1, updated_at: "2026-12-01T10:00:00Z", labels: ["safe"], author: { id: 7, username: "dev" } },
      { iid: 3, sha: "not a commit", source_project_id: 1, target_project_id: 1, updated_at: "2026-12-01T10:00:00Z", labels: [], author: { id: 7, username: "dev" } },
      { iid: 5, sha: "e".repeat(40), source_project_id: 2, target_project_id: 1, updated_at: "2026-12-01T11:00:00Z", labels: [], author: { id: 9, username: "eve" } },
    ]);
    const handled: ForgeIntent[] = [];
    const queue = new BuildQueue({ concurrency: 1, queueLength: 20, timeout: 600_000, minFreeDisk: 0, memory: 0, cpus: 0 } as never, () => "b1");
    // A preview of merge request 9 runs, and 9 is no longer open; a GitHub pull request of the same number is not ours.
    const previews = [{ id: "web-mr-9" }, { id: "web-pr-2" }, { id: "other-mr-1" }] as never;
    const reconciler = new PullRequestReconciler({ api: client, repos: { [PROJECT]: { source: "web", trust: "collaborators", commands: "push" } }, previews: () => previews, runner: { queue }, handle: async (intent) => void handled.push(intent), everyMs: 300_000, logger: silentLogger, scheduler: new ManualScheduler(0) });
    await reconciler.kick();
    expect(handled).toEqual([
      { kind: "remove-pr", repo: PROJECT, pr: 9 },
      { kind: "build", repo: PROJECT, pr: 2, commit: SHA, version: Date.parse("2026-12-01T10:00:00Z"), fork: false, labels: ["safe"], author: "dev", authorId: 7 },
      { kind: "build", repo: PROJECT, pr: 5, commit: "e".repeat(40), version: Date.parse("2026-12-01T11:00:00Z"), fork: true, labels: [], author: "eve", authorId: 9 },
    ]);
  });
});
