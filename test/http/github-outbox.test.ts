// What we tell GitHub goes through the outbox: on disk first, retried on the manual clock when GitHub refuses (a 500,
// an exhausted rate limit, Retry-After), sent exactly once when it is taken, and still sent after a restart.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Octokit } from "@octokit/core";
import { afterEach, describe, expect, it } from "vitest";
import { ManualScheduler } from "../../src/core/scheduler.js";
import { GithubApi } from "../../src/forges/github/api.js";
import { Outbox } from "../../src/forges/outbox.js";
import { silentLogger } from "../../src/logger.js";

interface Call {
  at: number;
  route: string;
  status: number;
}

/** GitHub's API as far as the outbox goes: each call answered by the next scripted refusal, else 201. */
function fakeGithub(scheduler: ManualScheduler, refusals: Array<{ status: number; headers?: Record<string, string> }>) {
  const calls: Call[] = [];
  const octokit = {
    request: async (route: string) => {
      const refusal = refusals.shift();
      calls.push({ at: scheduler.now(), route, status: refusal?.status ?? 201 });
      if (refusal) throw Object.assign(new Error(`HTTP ${refusal.status}`), { status: refusal.status, response: { headers: refusal.headers ?? {} } });
      return { data: route.startsWith("GET") ? [] : { id: 7 } };
    },
  } as unknown as Octokit;
  return { octokit, calls };
}

const STATUS = { kind: "status", repo: "octo/app", commit: "a".repeat(40), state: "success", description: "served" } as const;

describe("the GitHub outbox", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const stateDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-outbox-"));
    dirs.push(dir);
    return dir;
  };

  it("waits out a 500, an exhausted rate limit and Retry-After, then sends the status exactly once", async () => {
    const scheduler = new ManualScheduler(1_000_000);
    const github = fakeGithub(scheduler, [
      { status: 500 },
      { status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(1_000_000 / 1000 + 60) } },
      { status: 429, headers: { "retry-after": "30" } },
    ]);
    const outbox = new Outbox({ api: new GithubApi(github.octokit), stateDir: await stateDir(), logger: silentLogger, scheduler, firstRetryMs: 2000 });
    await outbox.start();
    // Each pass ends with its outcome on disk (real file writes): flushed() says so before time moves on.
    const advance = async (ms: number) => {
      await scheduler.advance(ms);
      await outbox.flushed();
    };
    await outbox.send(STATUS);
    await outbox.flushed();
    expect(github.calls.map((call) => call.status)).toEqual([500]);
    // The first retry comes 2 s (plus up to 20 % jitter) later; nothing is sent before.
    await advance(1999);
    expect(github.calls).toHaveLength(1);
    await advance(401);
    expect(github.calls.map((call) => call.status)).toEqual([500, 403]);
    // The rate limit resets at +60 s (one second more to be sure): the outbox waits for it, then meets Retry-After.
    await advance(1_000_000 + 61_000 - 1 - scheduler.now());
    expect(github.calls).toHaveLength(2);
    await advance(1);
    expect(github.calls.map((call) => call.status)).toEqual([500, 403, 429]);
    await advance(29_999);
    expect(github.calls).toHaveLength(3);
    await advance(1);
    expect(github.calls.map((call) => call.status)).toEqual([500, 403, 429, 201]);
    expect(outbox.pending()).toEqual([]);
    // Taken once: nothing more is sent, however long it runs.
    await advance(3_600_000);
    expect(github.calls).toHaveLength(4);
    expect(scheduler.waiting).toBe(0);
    await outbox.close();
  });

  it("keeps an unsent status across a restart, and a newer one about the same commit replaces it", async () => {
    const dir = await stateDir();
    const scheduler = new ManualScheduler(1_000_000);
    const down = fakeGithub(scheduler, [{ status: 502 }, { status: 502 }]);
    const first = new Outbox({ api: new GithubApi(down.octokit), stateDir: dir, logger: silentLogger, scheduler });
    await first.start();
    await first.send({ ...STATUS, state: "pending", description: "building" });
    await first.send({ ...STATUS, state: "success", description: "served" });
    await first.flushed();
    await first.close();
    expect(down.calls).toHaveLength(2);
    expect(first.pending()).toMatchObject([{ state: "success" }]);

    const up = fakeGithub(scheduler, []);
    const second = new Outbox({ api: new GithubApi(up.octokit), stateDir: dir, logger: silentLogger, scheduler });
    await second.start();
    // Its retry time, kept on disk with it, comes.
    await scheduler.advance(60_000);
    await second.flushed();
    expect(up.calls.map((call) => call.route)).toEqual(["POST /repos/{owner}/{repo}/statuses/{sha}"]);
    expect(second.pending()).toEqual([]);
    await second.close();
  });

  it("gives up on a refusal that will not change (422), saying so, and sends the next message", async () => {
    const scheduler = new ManualScheduler(1_000_000);
    const github = fakeGithub(scheduler, [{ status: 422 }]);
    const warned: string[] = [];
    const outbox = new Outbox({ api: new GithubApi(github.octokit), stateDir: await stateDir(), logger: { ...silentLogger, warn: (line: string) => warned.push(line) }, scheduler });
    await outbox.start();
    await outbox.send(STATUS);
    await outbox.send({ kind: "comment", repo: "octo/app", pr: 3, body: "Preview: http://example" });
    await outbox.flushed();
    expect(github.calls.map((call) => call.status)).toEqual([422, 201, 201]);
    expect(warned).toEqual([expect.stringMatching(/^GitHub refused the success status of octo\/app@aaaaaaaaaaaa \(.*\); not sent$/)]);
    expect(outbox.pending()).toEqual([]);
    await outbox.close();
  });
});
