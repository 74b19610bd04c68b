// The GitHub client and the outbox against a stand-in API: a token, or a GitHub App's JWT exchanged for an
// installation token; one comment found again by its marker after a restart, edited, never posted twice.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GithubApi } from "../../src/forges/github/api.js";
import { githubClient } from "../../src/forges/github/client.js";
import { COMMENT_MARKER, Outbox } from "../../src/forges/outbox.js";
import { silentLogger } from "../../src/logger.js";
import { startFakeGithubApi, type FakeGithubApi } from "../support/github-api.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const base = { webhookSecrets: ["a-secret-of-16-chars"], reconcile: 300_000, repos: {} };

describe("GitHub client and outbox (stand-in API)", () => {
  let api: FakeGithubApi;
  let dir: string;
  beforeAll(async () => {
    api = await startFakeGithubApi();
    dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-github-client-"));
  });
  afterAll(async () => {
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("authenticates as a GitHub App: a JWT for an installation token, then the token", async () => {
    const key = path.join(dir, "app.pem");
    await execa("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key]);
    const octokit = await githubClient({ ...base, apiUrl: api.url, app: { id: 12345, privateKey: key, installationId: 42 } }, {});
    const outbox = new Outbox({ api: new GithubApi(octokit!), stateDir: path.join(dir, "app"), logger: silentLogger });
    await outbox.start();
    await outbox.send({ kind: "status", repo: "acme/web", commit: SHA, state: "success", description: "ready", targetUrl: "http://web-pr-1.demo.localhost/" });
    await outbox.flushed();
    await outbox.close();
    const exchange = api.calls.find((call) => call.path === "/app/installations/42/access_tokens")!;
    expect(exchange.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/i);
    const status = api.calls.find((call) => call.path === `/repos/acme/web/statuses/${SHA}`)!;
    expect(status.authorization).toBe("token ghs_installation_token");
    expect(status.body).toMatchObject({ state: "success", context: "demo-launcher/preview", target_url: "http://web-pr-1.demo.localhost/" });
  });

  it("with a token, keeps one comment per pull request: found again by its marker after a restart, edited in place", async () => {
    const octokit = await githubClient({ ...base, apiUrl: api.url }, { DEMO_LAUNCHER_GITHUB_TOKEN: "ghp_from_env" });
    const stateDir = path.join(dir, "token");
    const first = new Outbox({ api: new GithubApi(octokit!), stateDir, logger: silentLogger });
    await first.start();
    await first.send({ kind: "comment", repo: "acme/web", pr: 9, body: "first" });
    await first.flushed();
    await first.close();
    // A new outbox that lost the comment's id (its file is gone) finds the comment by its marker.
    await writeFile(path.join(stateDir, "github-outbox.json"), "{}");
    const second = new Outbox({ api: new GithubApi(octokit!), stateDir, logger: silentLogger });
    await second.start();
    await second.send({ kind: "comment", repo: "acme/web", pr: 9, body: "second" });
    await second.flushed();
    await second.close();
    const ours = [...api.comments.values()].filter((comment) => comment.issue === "acme/web#9");
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toBe(`${COMMENT_MARKER}\nsecond`);
    expect(api.calls.filter((call) => call.path === "/repos/acme/web/issues/9/comments" && call.method === "POST")).toHaveLength(1);
    expect(api.calls.every((call) => call.path.startsWith("/app/") || call.authorization !== "" )).toBe(true);
    expect(api.calls.filter((call) => call.path.includes("/issues/")).every((call) => call.authorization === "token ghp_from_env")).toBe(true);
    // No credentials: no client, so nothing is sent (and the controller says so at start).
    expect(await githubClient({ ...base, apiUrl: api.url }, {})).toBeUndefined();
  });
});
