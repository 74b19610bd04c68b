// GitHub's and GitLab's webhooks through fastify.inject, with the build queue on its pure core: GitHub's signature
// over the raw bytes and GitLab's secret token (any configured secret), refusals without a build, redeliveries counted
// and never acted on twice, who is trusted, newest-wins per change, and a closed one removing its preview. GitLab's
// payloads are its documented examples. Real git and Docker: test/system.
import { sign } from "@octokit/webhooks-methods";
import { afterEach, describe, expect, it } from "vitest";
import type { PreviewBuilds } from "../../src/builds/preview-removal.js";
import { BuildQueue } from "../../src/core/builds/build-queue.js";
import { DeliveryLog } from "../../src/forges/deliveries.js";
import { ForgeHooks } from "../../src/forges/hooks.js";
import { githubSignatureCheck } from "../../src/forges/github/signature.js";
import { gitlabTokenCheck } from "../../src/forges/gitlab/token.js";
import { EXAMPLE_PROJECT, mergeRequestPayload, PUSH_EXAMPLE } from "../support/gitlab.js";
import { silentLogger } from "../../src/logger.js";
import { EXAMPLE_REPO, pullRequestPayload, recorded } from "../support/github.js";
import { httpApp, type HttpApp } from "../support/http-app.js";

const SECRET = "the-current-webhook-secret";
const OLD_SECRET = "the-previous-webhook-secret";
const COMMIT = (n: number) => String(n).repeat(40).slice(0, 40);

/** The runner as webhooks see it: requests land in the real (pure) queue; nothing is built. */
function queueOnly(now: () => number): PreviewBuilds & { cancelled: string[] } {
  let ids = 0;
  const queue = new BuildQueue({ concurrency: 1, queueLength: 20, timeout: 600_000, minFreeDisk: 0, memory: 0, cpus: 0 } as never, () => `build${(ids += 1)}`);
  const cancelled: string[] = [];
  return {
    queue,
    cancelled,
    request: async (source, ref, own) => queue.request({ source: String(source), commit: String(ref.commit), ...(own ? { host: own.host, version: own.version, untrusted: own.untrusted } : {}) }, now()),
    cancel: async (id) => (cancelled.push(id), true),
    removeImages: async (images) => images,
  };
}

describe("GitHub webhooks", () => {
  let app: HttpApp | undefined;
  let runner: ReturnType<typeof queueOnly>;
  let hooks: ForgeHooks;
  let deliveries: DeliveryLog;
  afterEach(async () => {
    await hooks?.idle();
    await app?.close();
    app = undefined;
  });

  async function withHooks() {
    app = await httpApp(`github:\n  webhookSecrets: [${OLD_SECRET}, ${SECRET}]\n  token: t\n  repos:\n    ${EXAMPLE_REPO}: { name: site, repo: "file:///nowhere", port: 8080, trust: "label:safe" }`, {
      deps: ({ engine, config, scheduler }) => {
        runner = queueOnly(() => scheduler.now());
        deliveries = new DeliveryLog(config.stateDir, () => scheduler.now(), silentLogger);
        hooks = new ForgeHooks({ forge: "github", verify: githubSignatureCheck(config.github!.webhookSecrets), repos: config.githubRepos, runner, engine, deliveries, logger: silentLogger });
        return { forges: { github: hooks }, deliveries };
      },
    });
    await hooks.start(await deliveries.start());
    let sent = 0;
    const deliver = async (event: string, payload: unknown, options: { secret?: string; body?: string; signature?: string; id?: string } = {}) => {
      const body = options.body ?? JSON.stringify(payload);
      const id = options.id ?? `delivery-${(sent += 1)}`;
      const answer = await app!.viaNginx("140.82.112.1", { method: "POST", url: "/hooks/github", headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": options.signature ?? (await sign(options.secret ?? SECRET, body)) }, payload: body });
      await hooks.idle();
      return Object.assign(answer, { id });
    };
    return { app, deliver };
  }

  it("refuses bad deliveries without a 5xx and without a build", async () => {
    const { deliver } = await withHooks();
    const payload = JSON.stringify(pullRequestPayload("opened", 9, COMMIT(9), new Date(), { labels: ["safe"] }));
    const cases: Array<[string, () => ReturnType<typeof deliver>, number]> = [
      ["unsigned", () => deliver("pull_request", undefined, { body: payload, signature: "" }), 401],
      ["a wrong secret", () => deliver("pull_request", undefined, { body: payload, secret: "not-the-secret-at-all" }), 401],
      ["the signature of another body", async () => deliver("pull_request", undefined, { body: payload, signature: await sign(SECRET, `${payload} `) }), 401],
      ["a truncated signature", () => deliver("pull_request", undefined, { body: payload, signature: "sha256=abc" }), 401],
      ["broken JSON", () => deliver("pull_request", undefined, { body: "{not json" }), 400],
      ["a malformed event header", () => deliver("../etc", undefined, { body: payload }), 400],
      ["an event not acted on", () => deliver("issues", recorded("issues")), 202],
      ["a repository not configured", () => deliver("pull_request", { ...JSON.parse(payload), repository: { full_name: "someone/else" } }), 202],
      ["a number that is text", () => deliver("pull_request", { ...JSON.parse(payload), number: "9" }), 202],
      ["no pull_request", () => deliver("pull_request", { ...JSON.parse(payload), pull_request: null }), 202],
      ["a head sha that is not a commit", () => deliver("pull_request", pullRequestPayload("opened", 9, "$(id)", new Date())), 202],
      ["a payload that is a list", () => deliver("pull_request", [1, 2]), 202],
    ];
    for (const [what, send, status] of cases) {
      const answer = await send();
      expect(answer.statusCode, `${what}: ${answer.body}`).toBe(status);
      if (status !== 202) expect(answer.headers["content-type"], what).toContain("application/problem+json");
    }
    expect(runner.queue.all()).toEqual([]);
  });

  it("takes a delivery signed with any configured secret, and counts a redelivery without acting on it twice", async () => {
    const { app, deliver } = await withHooks();
    const opened = await deliver("pull_request", pullRequestPayload("opened", 1, COMMIT(1), new Date(), { labels: ["safe"] }), { secret: OLD_SECRET });
    expect(opened.statusCode).toBe(202);
    expect(opened.json()).toMatchObject({ delivery: opened.id, accepted: true });
    expect(runner.queue.all()).toMatchObject([{ source: "site", commit: COMMIT(1), host: "site-pr-1" }]);
    const again = await deliver("pull_request", pullRequestPayload("opened", 1, COMMIT(1), new Date(), { labels: ["safe"] }), { id: opened.id });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ delivery: opened.id, duplicate: true, outcome: "queued" });
    expect(runner.queue.all()).toHaveLength(1);
    const listed = await app.inject({ method: "GET", url: "/api/deliveries", remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8081" } });
    expect(listed.json().deliveries.find((delivery: { id: string }) => delivery.id === opened.id)).toMatchObject({ received: 2, outcome: "queued" });
  });

  it("holds back a fork's pull request without the trusted label, builds it once labelled, and an older event never wins", async () => {
    const { deliver } = await withHooks();
    const unlabelled = await deliver("pull_request", pullRequestPayload("opened", 3, COMMIT(3), new Date(2_000_000), { fork: true }));
    expect(unlabelled.statusCode).toBe(202);
    expect(runner.queue.all()).toEqual([]);
    expect(hooks.deliveries.get(unlabelled.id)).toMatchObject({ outcome: "ignored", reason: expect.stringMatching(/label safe/) });
    await deliver("pull_request", pullRequestPayload("reopened", 3, COMMIT(4), new Date(3_000_000), { fork: true, labels: ["safe"] }));
    expect(runner.queue.all()).toMatchObject([{ commit: COMMIT(4), host: "site-pr-3" }]);
    // GitHub does not promise order: an event older than the newest seen changes nothing.
    const stale = await deliver("pull_request", pullRequestPayload("synchronize", 3, COMMIT(5), new Date(1_000_000), { fork: true, labels: ["safe"] }));
    expect(hooks.deliveries.get(stale.id)).toMatchObject({ outcome: "ignored", reason: expect.stringMatching(/newer commit/) });
    expect(runner.queue.all().map((build) => build.commit)).toEqual([COMMIT(4)]);
  });

  it("removes a closed pull request's preview: its builds under way are cancelled", async () => {
    const { deliver } = await withHooks();
    await deliver("pull_request", pullRequestPayload("opened", 6, COMMIT(6), new Date(1_000_000), { labels: ["safe"] }));
    const [build] = runner.queue.all();
    const closed = await deliver("pull_request", pullRequestPayload("closed", 6, COMMIT(6), new Date(2_000_000), { labels: ["safe"] }));
    expect(closed.statusCode).toBe(202);
    expect(runner.cancelled).toEqual([build!.id]);
    expect(hooks.deliveries.get(closed.id)).toMatchObject({ outcome: "removed" });
  });
});

describe("GitLab webhooks", () => {
  const TOKEN = "the-current-secret-token";
  const OLD_TOKEN = "the-previous-secret-token";
  let app: HttpApp | undefined;
  let runner: ReturnType<typeof queueOnly>;
  let hooks: ForgeHooks;
  afterEach(async () => {
    await hooks?.idle();
    await app?.close();
    app = undefined;
  });

  async function withHooks() {
    app = await httpApp(`gitlab:\n  webhookSecrets: [${OLD_TOKEN}, ${TOKEN}]\n  projects:\n    ${EXAMPLE_PROJECT}: { name: shop, repo: "file:///nowhere", port: 8080, trust: "label:safe" }`, {
      deps: ({ engine, config, scheduler }) => {
        runner = queueOnly(() => scheduler.now());
        const deliveries = new DeliveryLog(config.stateDir, () => scheduler.now(), silentLogger);
        hooks = new ForgeHooks({ forge: "gitlab", verify: gitlabTokenCheck(config.gitlab!.webhookSecrets), repos: config.gitlabProjects, runner, engine, deliveries, logger: silentLogger });
        return { forges: { gitlab: hooks }, deliveries };
      },
    });
    await hooks.start(await hooks.deliveries.start());
    let sent = 0;
    const deliver = async (event: string, payload: unknown, options: { token?: string | null; body?: string; id?: string; headers?: Record<string, string> } = {}) => {
      const id = options.id ?? `00000000-0000-4000-8000-${String((sent += 1)).padStart(12, "0")}`;
      const token = options.token === null ? {} : { "x-gitlab-token": options.token ?? TOKEN };
      const answer = await app!.viaNginx("34.74.90.64", { method: "POST", url: "/hooks/gitlab", headers: { "content-type": "application/json", "x-gitlab-event": event, "idempotency-key": id, ...token, ...options.headers }, payload: options.body ?? JSON.stringify(payload) });
      await hooks.idle();
      return Object.assign(answer, { id });
    };
    return { app, deliver };
  }

  it("refuses bad deliveries without a 5xx and without a build", async () => {
    const { deliver } = await withHooks();
    const payload = mergeRequestPayload("open", 9, COMMIT(9), new Date(), { labels: ["safe"] });
    const cases: Array<[string, () => ReturnType<typeof deliver>, number]> = [
      ["no token", () => deliver("Merge Request Hook", payload, { token: null }), 401],
      ["a wrong token", () => deliver("Merge Request Hook", payload, { token: "not-the-token-at-all" }), 401],
      ["a token that is one of ours with more after it", () => deliver("Merge Request Hook", payload, { token: `${TOKEN}x` }), 401],
      ["broken JSON", () => deliver("Merge Request Hook", undefined, { body: "{not json" }), 400],
      ["a malformed event header", () => deliver("../etc", payload), 400],
      ["no delivery id", () => deliver("Merge Request Hook", payload, { headers: { "idempotency-key": "" } }), 400],
      ["form-encoded", () => deliver("Merge Request Hook", payload, { headers: { "content-type": "application/x-www-form-urlencoded" } }), 415],
      ["an event not acted on", () => deliver("Issue Hook", { ...payload, object_kind: "issue" }), 202],
      ["a project not configured", () => deliver("Merge Request Hook", mergeRequestPayload("open", 9, COMMIT(9), new Date(), { project: "someone/else" })), 202],
      ["an iid that is text", () => deliver("Merge Request Hook", { ...payload, object_attributes: { ...payload.object_attributes, iid: "9" } }), 202],
      ["a last commit that is not one", () => deliver("Merge Request Hook", mergeRequestPayload("open", 9, "$(id)", new Date())), 202],
    ];
    for (const [what, send, status] of cases) {
      const answer = await send();
      expect(answer.statusCode, `${what}: ${answer.body}`).toBe(status);
      if (status !== 202) expect(answer.headers["content-type"], what).toContain("application/problem+json");
    }
    expect(runner.queue.all()).toEqual([]);
  });

  it("takes a delivery with any configured token, and counts a retry (same Idempotency-Key) without acting on it twice", async () => {
    const { app, deliver } = await withHooks();
    const opened = await deliver("Merge Request Hook", mergeRequestPayload("open", 1, COMMIT(1), new Date(), { labels: ["safe"] }), { token: OLD_TOKEN });
    expect(opened.statusCode).toBe(202);
    expect(runner.queue.all()).toMatchObject([{ source: "shop", commit: COMMIT(1), host: "shop-mr-1" }]);
    const again = await deliver("Merge Request Hook", mergeRequestPayload("open", 1, COMMIT(1), new Date(), { labels: ["safe"] }), { id: opened.id });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ delivery: opened.id, duplicate: true, outcome: "queued" });
    expect(runner.queue.all()).toHaveLength(1);
    // An older GitLab sends no Idempotency-Key: the event's UUID is the id then.
    const uuid = "9f2c7a34-0000-4000-8000-000000000001";
    const byUuid = await app.viaNginx("34.74.90.64", { method: "POST", url: "/hooks/gitlab", headers: { "content-type": "application/json", "x-gitlab-event": "Merge Request Hook", "x-gitlab-event-uuid": uuid, "x-gitlab-token": TOKEN }, payload: JSON.stringify(mergeRequestPayload("update", 1, COMMIT(2), new Date(Date.now() + 1000), { labels: ["safe"], oldrev: COMMIT(1) })) });
    await hooks.idle();
    expect(byUuid.statusCode).toBe(202);
    expect(hooks.deliveries.get(uuid)).toMatchObject({ forge: "gitlab", outcome: "queued", repo: EXAMPLE_PROJECT, pr: 1, commit: COMMIT(2) });
    const listed = await app.inject({ method: "GET", url: "/api/deliveries", remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1:8081" } });
    expect(listed.json().deliveries.find((delivery: { id: string }) => delivery.id === opened.id)).toMatchObject({ forge: "gitlab", received: 2, outcome: "queued" });
  });

  it("holds back a fork's merge request without the trusted label, builds it once labelled, and an older event never wins", async () => {
    const { deliver } = await withHooks();
    const unlabelled = await deliver("Merge Request Hook", mergeRequestPayload("open", 3, COMMIT(3), new Date(2_000_000), { fork: true }));
    expect(runner.queue.all()).toEqual([]);
    expect(hooks.deliveries.get(unlabelled.id)).toMatchObject({ outcome: "ignored", reason: "a merge request from a fork is built once it has the label safe" });
    // Adding the label is an update without new commits: GitLab says so in changes.labels.
    const labelled = { ...mergeRequestPayload("update", 3, COMMIT(3), new Date(3_000_000), { fork: true, labels: ["safe"] }), changes: { labels: { previous: [], current: [{ title: "safe" }] } } };
    await deliver("Merge Request Hook", labelled);
    expect(runner.queue.all()).toMatchObject([{ commit: COMMIT(3), host: "shop-mr-3" }]);
    const stale = await deliver("Merge Request Hook", mergeRequestPayload("update", 3, COMMIT(5), new Date(1_000_000), { fork: true, labels: ["safe"], oldrev: COMMIT(3) }));
    expect(hooks.deliveries.get(stale.id)).toMatchObject({ outcome: "ignored", reason: expect.stringMatching(/newer commit .* of merge request !3/) });
    expect(runner.queue.all().map((build) => build.commit)).toEqual([COMMIT(3)]);
  });

  it("removes a closed or merged merge request's preview, and a deleted branch's", async () => {
    const { deliver } = await withHooks();
    await deliver("Merge Request Hook", mergeRequestPayload("open", 6, COMMIT(6), new Date(1_000_000), { labels: ["safe"] }));
    await deliver("Merge Request Hook", mergeRequestPayload("open", 7, COMMIT(7), new Date(1_000_000), { labels: ["safe"] }));
    const [six, seven] = runner.queue.all();
    const closed = await deliver("Merge Request Hook", mergeRequestPayload("close", 6, COMMIT(6), new Date(2_000_000)));
    const merged = await deliver("Merge Request Hook", mergeRequestPayload("merge", 7, COMMIT(7), new Date(2_000_000)));
    expect(runner.cancelled).toEqual([six!.id, seven!.id]);
    expect(hooks.deliveries.get(closed.id)).toMatchObject({ outcome: "removed" });
    expect(hooks.deliveries.get(merged.id)).toMatchObject({ outcome: "removed" });
    const deleted = await deliver("Push Hook", { ...PUSH_EXAMPLE, ref: "refs/heads/feature/x", after: "0".repeat(40) });
    expect(hooks.deliveries.get(deleted.id)).toMatchObject({ outcome: "removed", reason: expect.stringMatching(/no preview at shop-feature-x/) });
  });
});
