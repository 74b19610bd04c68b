// Unit tests of the pure GitLab pieces: what a delivery asks for, read from GitLab's documented payload examples,
// and the gitlab: config section.
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { interpretGitlabEvent } from "../../src/core/forges/gitlab-events.js";
import { trustDecision, versionOf } from "../../src/core/forges/forge-intent.js";
import { changeOfLabel, pullRequestLabel, branchLabel } from "../../src/core/previews/preview-names.js";
import { problemsOf } from "../support/config-problems.js";
import { EXAMPLE_PROJECT, MERGE_REQUEST_EXAMPLE, mergeRequestPayload, NOTE_EXAMPLE, PUSH_EXAMPLE } from "../support/gitlab.js";

const configured = (path: string) => path === EXAMPLE_PROJECT;
const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("GitLab events", () => {
  it("reads the documented merge request example as a build of its last commit", () => {
    expect(interpretGitlabEvent("Merge Request Hook", MERGE_REQUEST_EXAMPLE, configured)).toEqual({
      kind: "build",
      repo: EXAMPLE_PROJECT,
      pr: 1,
      commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
      version: Date.parse("2013-12-03T17:23:34Z"),
      fork: false,
      labels: ["API"],
      // The event's user (root, id 1) is not the author (id 51): membership is asked by id, the name says so.
      author: "user 51",
      authorId: 51,
      url: "http://example.com/diaspora/merge_requests/1",
    });
  });

  it("builds on open, reopen and an update that brings commits or labels; removes on close and merge; ignores the rest", () => {
    const at = new Date(5000);
    expect(interpretGitlabEvent("Merge Request Hook", mergeRequestPayload("reopen", 4, SHA, at), configured)).toMatchObject({ kind: "build", pr: 4, commit: SHA, version: 5000 });
    expect(interpretGitlabEvent("Merge Request Hook", mergeRequestPayload("update", 4, SHA, at, { oldrev: "f".repeat(40) }), configured)).toMatchObject({ kind: "build", pr: 4 });
    expect(interpretGitlabEvent("Merge Request Hook", { ...mergeRequestPayload("update", 4, SHA, at), changes: { labels: { previous: [], current: [{ title: "safe" }] } } }, configured)).toMatchObject({ kind: "build" });
    expect(interpretGitlabEvent("Merge Request Hook", { ...mergeRequestPayload("update", 4, SHA, at), changes: { title: { previous: "a", current: "b" } } }, configured)).toMatchObject({ kind: "ignore", reason: 'the action "update" changes nothing to build', pr: 4 });
    expect(interpretGitlabEvent("Merge Request Hook", mergeRequestPayload("close", 4, SHA, at), configured)).toEqual({ kind: "remove-pr", repo: EXAMPLE_PROJECT, pr: 4 });
    expect(interpretGitlabEvent("Merge Request Hook", mergeRequestPayload("merge", 4, SHA, at), configured)).toEqual({ kind: "remove-pr", repo: EXAMPLE_PROJECT, pr: 4 });
    for (const action of ["approved", "unapproved", "approval", "unapproval"]) expect(interpretGitlabEvent("Merge Request Hook", mergeRequestPayload(action, 4, SHA, at), configured).kind).toBe("ignore");
    expect(interpretGitlabEvent("Merge Request Hook", mergeRequestPayload("open", 4, SHA, at, { fork: true, labels: ["safe"], authorId: 9, username: "eve" }), configured)).toMatchObject({ kind: "build", fork: true, labels: ["safe"], author: "eve", authorId: 9 });
    expect(interpretGitlabEvent("Merge Request Hook", mergeRequestPayload("open", 4, SHA, at), () => false)).toMatchObject({ kind: "ignore", reason: `the project ${EXAMPLE_PROJECT} is not configured (gitlab.projects)` });
  });

  it("removes a deleted branch's preview on the documented push example with no commit after, and ignores other pushes and notes", () => {
    expect(interpretGitlabEvent("Push Hook", { ...PUSH_EXAMPLE, ref: "refs/heads/feature/x", after: "0".repeat(40) }, configured)).toEqual({ kind: "remove-branch", repo: EXAMPLE_PROJECT, branch: "feature/x" });
    expect(interpretGitlabEvent("Push Hook", PUSH_EXAMPLE, configured)).toMatchObject({ kind: "ignore", reason: expect.stringContaining("delete a branch") });
    expect(interpretGitlabEvent("Push Hook", { ...PUSH_EXAMPLE, ref: "refs/tags/v1", after: "0".repeat(40) }, configured)).toMatchObject({ kind: "ignore", reason: "refs/tags/v1 is not a branch" });
    expect(interpretGitlabEvent("Tag Push Hook", PUSH_EXAMPLE, configured)).toMatchObject({ kind: "ignore" });
  });

  it("never builds from a payload with missing or wrong-typed fields", () => {
    const base = mergeRequestPayload("open", 7, SHA, new Date());
    const broken: unknown[] = [null, [], "text", 42, { ...base, project: null }, { ...base, project: { path_with_namespace: 5 } }, { ...base, object_attributes: null }, { ...base, object_attributes: { ...base.object_attributes, iid: "7" } }, { ...base, object_attributes: { ...base.object_attributes, iid: 0 } }, { ...base, object_attributes: { ...base.object_attributes, action: 3 } }, { ...base, object_attributes: { ...base.object_attributes, last_commit: null } }, mergeRequestPayload("open", 7, "$(id)", new Date()), mergeRequestPayload("open", 7, SHA.toUpperCase(), new Date())];
    for (const payload of broken) expect(interpretGitlabEvent("Merge Request Hook", payload, configured).kind, JSON.stringify(payload).slice(0, 80)).toBe("ignore");
  });

  it("reads GitLab's two ways of writing a time, and trusts forks by label or membership like GitHub", () => {
    expect(versionOf("2015-03-21 18:27:27 UTC")).toBe(Date.parse("2015-03-21T18:27:27Z"));
    expect(versionOf(NOTE_EXAMPLE.merge_request.updated_at)).toBeGreaterThan(0);
    expect(versionOf("yesterday")).toBe(0);
    expect(trustDecision("collaborators", { fork: true, labels: [], author: "eve" }, false, "gitlab")).toMatchObject({ build: false, reason: expect.stringMatching(/^a merge request from a fork .* eve has no write access$/) });
    expect(trustDecision("collaborators", { fork: true, labels: [] }, undefined, "gitlab")).toMatchObject({ build: false, reason: expect.stringContaining("GitLab could not be asked (no gitlab.token)") });
  });

  it("gives merge requests hosts of their own that no branch or pull request takes", () => {
    expect(pullRequestLabel("shop", 12, "gitlab")).toBe("shop-mr-12");
    expect(changeOfLabel("shop-mr-12")).toEqual({ source: "shop", forge: "gitlab", number: 12 });
    expect(changeOfLabel("shop-pr-12")).toEqual({ source: "shop", forge: "github", number: 12 });
    expect(changeOfLabel("shop-main")).toBeUndefined();
    expect(branchLabel("shop", "mr-12")).not.toBe("shop-mr-12");
    expect(branchLabel("shop", "pr-3")).not.toBe("shop-pr-3");
  });
});

describe("the gitlab: section", () => {
  const base = (projects: string) => `domain: demo.example.org\nstateDir: /tmp/x\napps:\n  hello: { image: hello, port: 8080 }\ngitlab:\n  webhookSecrets: [a-secret-token-of-16]\n  apiUrl: https://git.example.org/api/v4\n  projects:\n${projects}`;

  it("makes each project a preview source, cloned from the API's host by default", () => {
    const config = parseConfigText(base("    shop/web-app: { port: 8080 }\n    shop/sub/Api_2: { name: api, repo: https://mirror.example.org/api.git, port: 3000, trust: label:safe }"), "/tmp/config.yaml", "/tmp");
    expect(config.gitlabProjects).toEqual({ "shop/web-app": { source: "webapp", trust: "collaborators", commands: "push" }, "shop/sub/Api_2": { source: "api", trust: "label:safe", commands: "push" } });
    expect(config.previews.webapp?.repo).toBe("https://git.example.org/shop/web-app.git");
    expect(config.previews.api?.repo).toBe("https://mirror.example.org/api.git");
  });

  it("refuses bad values naming the key, the value and what is allowed", () => {
    expect(problemsOf(base("    nogroup: { port: 8080 }"))).toContainEqual(expect.stringMatching(/^gitlab\.projects\.nogroup: .*must be a project's full path/));
    expect(problemsOf(base("    a/b: { port: 8080, trust: everyone }"))).toContainEqual(expect.stringMatching(/^gitlab\.projects\.a\/b\.trust: .*collaborators, all, or label:<name>/));
    expect(problemsOf(`domain: demo.example.org\napps:\n  hello: { image: hello, port: 8080 }\ngitlab:\n  webhookSecrets: [short]\n  projects:\n    a/b: { port: 8080 }`)).toContainEqual(expect.stringMatching(/^gitlab\.webhookSecrets\.0: .*at least 16 characters/));
    expect(problemsOf(`domain: demo.example.org\napps:\n  hello: { image: hello, port: 8080 }\ngitlab:\n  webhookSecrets: [a-secret-token-of-16]\n  apiUrl: not a url\n  projects:\n    a/b: { port: 8080 }`)).toContainEqual(expect.stringMatching(/^gitlab\.apiUrl: .*https:\/\/gitlab\.com\/api\/v4/));
  });
});
