// Unit tests of the pure GitHub pieces: what a delivery asks for, who is trusted, newest-wins builds per host,
// and the github: config section.
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { sourceNameOf } from "../../src/config/github-schema.js";
import { BuildQueue } from "../../src/core/builds/build-queue.js";
import { Pages } from "../../src/http/pages.js";
import { DEFAULT_TEMPLATES_DIR } from "../../src/nginx/render.js";
import { trustDecision } from "../../src/core/forges/forge-intent.js";
import { interpretGithubEvent as interpretEvent } from "../../src/core/forges/github-events.js";
import { EXAMPLE_REPO, pullRequestPayload, recorded } from "../support/github.js";

const configured = (repo: string) => repo === EXAMPLE_REPO;
const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("GitHub events", () => {
  it("reads builds, removals and pings from recorded payloads, and ignores the rest with the reason", () => {
    expect(interpretEvent("ping", recorded("ping"), configured)).toEqual({ kind: "ping" });
    expect(interpretEvent("pull_request", pullRequestPayload("opened", 7, SHA, new Date(5000)), configured)).toEqual({ kind: "build", repo: EXAMPLE_REPO, pr: 7, commit: SHA, version: 5000, fork: false, labels: [], author: "Codertocat", url: "https://github.com/Codertocat/Hello-World/pull/2" });
    expect(interpretEvent("pull_request", pullRequestPayload("synchronize", 7, SHA, new Date(6000), { fork: true, labels: ["safe"] }), configured)).toMatchObject({ kind: "build", fork: true, labels: ["safe"] });
    expect(interpretEvent("pull_request", pullRequestPayload("closed", 7, SHA, new Date()), configured)).toEqual({ kind: "remove-pr", repo: EXAMPLE_REPO, pr: 7 });
    const deleted = { ...recorded("push"), ref: "refs/heads/feature/x", deleted: true };
    expect(interpretEvent("push", deleted, configured)).toEqual({ kind: "remove-branch", repo: EXAMPLE_REPO, branch: "feature/x" });
    expect(interpretEvent("push", { ...deleted, deleted: false }, configured)).toMatchObject({ kind: "ignore" });
    expect(interpretEvent("push", { ...deleted, ref: "refs/tags/v1" }, configured)).toMatchObject({ kind: "ignore", reason: "refs/tags/v1 is not a branch" });
    expect(interpretEvent("issues", recorded("issues"), configured)).toMatchObject({ kind: "ignore" });
    expect(interpretEvent("pull_request", pullRequestPayload("opened", 7, SHA, new Date()), () => false)).toMatchObject({ kind: "ignore", reason: `the repository ${EXAMPLE_REPO} is not configured (github.repos)` });
    const labeled = recorded("pull_request", "labeled");
    expect(interpretEvent("pull_request", labeled, configured)).toMatchObject({ kind: "ignore" });
  });

  it("never builds from a payload with missing or wrong-typed fields", () => {
    const base = pullRequestPayload("opened", 7, SHA, new Date());
    const broken: unknown[] = [null, [], "text", 42, { ...base, repository: null }, { ...base, repository: { full_name: 5 } }, { ...base, number: "7" }, { ...base, number: -1 }, { ...base, number: 1.5 }, { ...base, action: 3 }, { ...base, pull_request: [] }, pullRequestPayload("opened", 7, "$(id)", new Date()), pullRequestPayload("opened", 7, SHA.toUpperCase(), new Date())];
    for (const payload of broken) expect(interpretEvent("pull_request", payload, configured).kind, JSON.stringify(payload).slice(0, 80)).toBe("ignore");
    expect(interpretEvent("pull_request", { ...base, pull_request: { ...base.pull_request, updated_at: "yesterday" } }, configured)).toMatchObject({ kind: "build", version: 0 });
  });

  it("trusts pull requests from the repository itself, and forks only by label or when all are trusted", () => {
    expect(trustDecision("collaborators", { fork: false, labels: [] })).toEqual({ build: true });
    expect(trustDecision("collaborators", { fork: true, labels: [] })).toMatchObject({ build: false, reason: expect.stringContaining("could not be asked") });
    expect(trustDecision("collaborators", { fork: true, labels: [], author: "eve" }, false)).toMatchObject({ build: false, reason: expect.stringContaining("eve has no write access") });
    expect(trustDecision("collaborators", { fork: true, labels: [], author: "ann" }, true)).toEqual({ build: true });
    expect(trustDecision("label:safe", { fork: true, labels: ["other"] })).toMatchObject({ build: false, reason: expect.stringContaining("label safe") });
    expect(trustDecision("label:safe", { fork: true, labels: ["safe"] })).toEqual({ build: true });
    expect(trustDecision("all", { fork: true, labels: [] })).toEqual({ build: true });
  });
});

describe("builds of a host of its own", () => {
  it("keeps one running and one queued build per host, the newest version winning whatever the order", () => {
    let ids = 0;
    const queue = new BuildQueue({ concurrency: 4, queueLength: 10 }, () => `b${(ids += 1)}`);
    const ask = (commit: string, version: number) => queue.request({ source: "web", commit, host: "web-pr-1", version }, 0).build;
    const first = ask("a".repeat(40), 10);
    expect(queue.startable().map((build) => build.id)).toEqual([first.id]);
    queue.advance(first.id, "fetching", 0);
    const second = ask("b".repeat(40), 20);
    expect(second.id).not.toBe(first.id);
    // Running on this host: the queued one waits, and later pushes fold into it.
    expect(queue.startable()).toEqual([]);
    expect(ask("c".repeat(40), 30).id).toBe(second.id);
    expect(second.commit).toBe("c".repeat(40));
    // An older event (version 15) changes nothing; the same commit again is shared.
    expect(ask("d".repeat(40), 15).id).toBe(second.id);
    expect(second.commit).toBe("c".repeat(40));
    expect(ask("c".repeat(40), 30).id).toBe(second.id);
    // Another host, or a plain commit build of the same commit, is a build of its own.
    expect(queue.request({ source: "web", commit: "c".repeat(40) }, 0).build.id).not.toBe(second.id);
    expect(queue.all()).toHaveLength(3);
  });
});

describe("a pull request's preview page", () => {
  it("links to its pull request while it builds", () => {
    const pages = new Pages(DEFAULT_TEMPLATES_DIR, undefined, { brand: { title: "Try", text: "", accentColor: "#000000", backgroundColor: "#ffffff" }, apexUrl: "http://demo.localhost" });
    const html = pages.previewBuild({ source: "web", ref: SHA, state: "building", logTail: "Step 1/3", offset: 8, link: "https://github.com/acme/web/pull/7", linkText: "Pull request #7" });
    expect(html).toContain('<a href="https://github.com/acme/web/pull/7" rel="noopener">Pull request #7</a>');
    expect(pages.previewBuild({ source: "web", ref: "main", state: "building", logTail: "", offset: 0 })).not.toContain("Pull request");
  });
});

describe("github config", () => {
  it("makes each repository a preview source, named after the repository unless named, and refuses a clash", () => {
    const config = parseConfigText(`github:\n  webhookSecrets: [a-secret-of-16-chars]\n  repos:\n    Acme/Web-App: { port: 3000 }\n    acme/api: { name: backend, port: 8080, trust: "label:safe" }\n`, "test.yaml", "/tmp");
    expect(config.githubRepos).toEqual({ "Acme/Web-App": { source: "webapp", trust: "collaborators", commands: "push" }, "acme/api": { source: "backend", trust: "label:safe", commands: "push" } });
    expect(config.previews.webapp).toMatchObject({ repo: "https://github.com/Acme/Web-App.git", port: 3000 });
    expect(config.github).toMatchObject({ apiUrl: "https://api.github.com", reconcile: 300_000 });
    expect(sourceNameOf("x/123-go")).toBe("go");
    expect(() => parseConfigText(`previews:\n  webapp: { repo: /tmp/x, port: 1 }\ngithub:\n  webhookSecrets: [a-secret-of-16-chars]\n  repos:\n    Acme/Web-App: { port: 3000 }\n`, "test.yaml", "/tmp")).toThrow(/github.repos.Acme\/Web-App.name: the source name "webapp" is taken/);
    expect(() => parseConfigText(`github:\n  webhookSecrets: [short]\n  repos:\n    nope: { port: 1, trust: everyone }\n`, "test.yaml", "/tmp")).toThrow(/webhookSecrets.0: "short" is wrong: must be at least 16 characters[\s\S]*must be a repository as owner\/name/);
  });
});
