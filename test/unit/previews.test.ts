// Unit tests of previews in the core: names and labels, close matches, idle stop, wake, and sleep across a restart.
import { describe, expect, it } from "vitest";
import { closeMatches } from "../../src/core/close-matches.js";
import { parsePreviewLabel, previewLabels } from "../../src/core/previews/preview-names.js";
import { planIdleStops } from "../../src/core/previews/previews.js";
import { planImageCleanup } from "../../src/core/builds/image-cleanup.js";
import { dockerWentAway, theCommitsFault } from "../../src/builds/docker-faults.js";
import type { Demo } from "../../src/core/model.js";
import { ALL_PORTS, app, setup } from "../support/engine-setup.js";

const preview = { ...app, ttl: 7 * 86_400_000, banner: false, idleStop: 60_000 };

describe("preview names", () => {
  it("parses what a label says and lists the hosts a build serves", () => {
    expect(parsePreviewLabel("web-commit-0123456789ab")).toEqual({ source: "web", commit: "0123456789ab" });
    expect(parsePreviewLabel("web-feature-login-1a2b3c4")).toEqual({ source: "web" });
    expect(parsePreviewLabel("abcd1234")).toBeUndefined();
    expect(previewLabels({ source: "web", branch: "main", commit: "0123456789abcdef" })).toEqual(["web-commit-0123456789ab", "web-main"]);
    expect(previewLabels({ source: "web", branch: "main" })).toEqual(["web-main"]);
  });

  it("puts the closest names first: typos, then names that contain the one asked", () => {
    expect(closeMatches("feature/logn", ["main", "feature/login", "feature/logout", "fix/login"])).toEqual(["feature/login", "feature/logout", "fix/login", "main"]);
    expect(closeMatches("login", ["main", "feature/login", "release"], 2)).toEqual(["feature/login", "main"]);
    expect(closeMatches("x", [])).toEqual([]);
  });
});

describe("idle stop and wake", () => {
  const demo = (overrides: Partial<Demo>): Demo => ({ id: "web-main", kind: "preview", app: "web", host: "web-main.demo.localhost", createdAt: 0, expiresAt: 10 ** 12, status: "ready", step: "done", instances: [], ...overrides });

  it("plans to stop only ready previews unused for their idleStop, with nothing under way", () => {
    const idle = (d: Demo) => (d.kind === "preview" ? 1000 : undefined);
    const demos = [
      demo({ id: "a", lastSeenAt: 0 }),
      demo({ id: "b", lastSeenAt: 9_500 }),
      demo({ id: "c", lastSeenAt: 0, status: "starting" }),
      demo({ id: "d", lastSeenAt: 0, replacement: { status: "running", image: "x", startedAt: 0 } }),
      demo({ id: "e", lastSeenAt: 0, wantedImage: "x" }),
      demo({ id: "f", lastSeenAt: 0, kind: "visitor" }),
      demo({ id: "g", lastSeenAt: 0, status: "asleep" }),
    ];
    expect(planIdleStops(demos, 10_000, idle).map((d) => d.id)).toEqual(["a"]);
  });

  it("stops an idle preview's container (unrouted first), wakes it on request, and keeps it asleep across a restart", async () => {
    const env = setup({ previews: { web: preview }, idleTracking: () => true }, { answering: ALL_PORTS() });
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-main", "img");
    await env.scheduler.runUntil(env.engine.settled());
    expect(demo.status).toBe("ready");
    const containerId = demo.instances[0]!.containerId!;
    // Requests keep it awake.
    await env.scheduler.advance(50_000);
    env.engine.previews.sawRequests(["web-main", "unknown-label"]);
    await env.scheduler.advance(50_000);
    await env.engine.reapTick();
    expect(demo.status).toBe("ready");
    await env.scheduler.advance(20_000);
    await env.engine.reapTick();
    expect(demo.status).toBe("asleep");
    expect(env.runtime.containers.get(containerId)!.state).toBe("exited");
    expect(env.writes.at(-1)!.map((route) => route.id)).not.toContain("web-main");
    // A Docker sync does not take a stopped preview for a crash.
    await env.engine.syncWithDocker();
    expect(demo.status).toBe("asleep");
    await env.engine.close();

    // The next run adopts it asleep (its stopped container is kept), and a request wakes that same container.
    const saved = env.saved.at(-1)!;
    expect(saved.asleep).toEqual(["web-main"]);
    const next = setup({ previews: { web: preview }, idleTracking: () => true, runtime: env.runtime, readiness: env.engine.options.readiness }, { answering: ALL_PORTS(), initial: saved });
    await next.engine.start();
    const adopted = next.engine.get("web-main")!;
    expect(adopted).toMatchObject({ status: "asleep", kind: "preview" });
    expect(next.engine.previews.wake("web-main")).toBe(true);
    await next.scheduler.runUntil(next.engine.settled());
    expect(adopted.status).toBe("ready");
    expect(adopted.instances.map((instance) => instance.containerId)).toEqual([containerId]);
    expect(next.writes.at(-1)!.map((route) => route.id)).toContain("web-main");
    expect(next.engine.previews.wake("web-main")).toBe(false);
  });

  it("counts a preview's idle time from when it is ready, not from when it was asked for", async () => {
    const answering = new Set<number>();
    const env = setup({ previews: { web: { ...preview, readiness: { path: "/", timeout: 120_000 } } }, idleTracking: () => true }, { answering });
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-main", "img");
    // Longer than its idleStop passes while it starts (a slow start on a busy host), then its app answers.
    await env.scheduler.advance(70_000);
    expect(demo.status).toBe("starting");
    for (const port of ALL_PORTS()) answering.add(port);
    await env.scheduler.runUntil(env.engine.settled());
    expect(demo.status).toBe("ready");
    await env.engine.reapTick();
    expect(demo.status).toBe("ready");
    await env.scheduler.advance(60_000);
    await env.engine.reapTick();
    expect(demo.status).toBe("asleep");
  });

  it("reads the requests not yet read before it stops a preview that looks idle", async () => {
    let unread: string[] = [];
    const env = setup({ previews: { web: preview }, idleTracking: () => true, readSeenRequests: async () => { env.engine.previews.sawRequests(unread); unread = []; } }, { answering: ALL_PORTS() });
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-main", "img");
    await env.scheduler.runUntil(env.engine.settled());
    await env.scheduler.advance(70_000);
    unread = ["web-main"];
    await env.engine.reapTick();
    expect(demo.status).toBe("ready");
    await env.scheduler.advance(70_000);
    await env.engine.reapTick();
    expect(demo.status).toBe("asleep");
  });

  it("wakes into a fresh container when the stopped one is gone, and serves a moved branch's image instead of waking the old one", async () => {
    const env = setup({ previews: { web: preview }, idleTracking: () => true }, { answering: ALL_PORTS() });
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-main", "img");
    await env.scheduler.runUntil(env.engine.settled());
    await env.scheduler.advance(120_000);
    await env.engine.reapTick();
    expect(demo.status).toBe("asleep");
    await env.runtime.remove(demo.instances[0]!.containerId!);
    env.engine.previews.wake("web-main");
    await env.scheduler.runUntil(env.engine.settled());
    expect(demo.status).toBe("ready");
    expect(demo.instances).toHaveLength(1);
    expect(env.runtime.containers.get(demo.instances[0]!.containerId!)!.state).toBe("running");

    await env.scheduler.advance(120_000);
    await env.engine.reapTick();
    expect(demo.status).toBe("asleep");
    env.engine.previews.serve("web", "web-main", "img:2");
    await env.scheduler.runUntil(env.engine.settled());
    expect(demo.status).toBe("ready");
    expect(demo.instances.map((instance) => instance.image)).toEqual(["img:2"]);
    expect([...env.runtime.containers.values()].filter((container) => container.labels["demo-launcher.id"] === "web-main")).toHaveLength(1);
  });

  it("never stops previews while requests are not being counted", async () => {
    const env = setup({ previews: { web: preview }, idleTracking: () => false }, { answering: ALL_PORTS() });
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-main", "img");
    await env.scheduler.runUntil(env.engine.settled());
    await env.scheduler.advance(600_000);
    await env.engine.reapTick();
    expect(demo.status).toBe("ready");
  });
});

describe("image cleanup plan", () => {
  const image = (tag: string, lastUsedAt: number, sizeBytes = 100) => ({ tag, source: "web", lastUsedAt, sizeBytes });
  const DAY = 86_400_000;

  it("removes unused images after keep, never one that serves or sleeps", () => {
    const plan = planImageCleanup({
      images: [image("old", 0), image("fresh", 9 * DAY), image("serving", 0), image("asleep", 0)],
      inUse: new Set(["serving"]),
      asleep: [{ id: "web-a", image: "asleep", lastSeenAt: 0 }],
      now: 10 * DAY,
      keepFor: () => 7 * DAY,
    });
    expect(plan).toEqual({ endPreviews: [], removeImages: ["old"] });
  });

  it("on a low disk, frees the least recently used first, then the longest-asleep previews, and stops when there is room", () => {
    const plan = planImageCleanup({
      images: [image("b", 2 * DAY, 300), image("a", 1 * DAY, 300), image("c", 3 * DAY, 300), image("s1", 0, 500), image("s2", 0, 500), image("serving", 0, 5000)],
      inUse: new Set(["serving"]),
      asleep: [
        { id: "web-new", image: "s2", lastSeenAt: 5 * DAY },
        { id: "web-old", image: "s1", lastSeenAt: 4 * DAY },
      ],
      now: 6 * DAY,
      keepFor: () => 7 * DAY,
      disk: { freeBytes: 1000, minFreeBytes: 2300 },
    });
    expect(plan).toEqual({ endPreviews: ["web-old"], removeImages: ["a", "b", "c", "s1"] });
    expect(planImageCleanup({ images: [image("a", 0)], inUse: new Set(), asleep: [], now: DAY, keepFor: () => 7 * DAY, disk: { freeBytes: 5000, minFreeBytes: 1000 } })).toEqual({ endPreviews: [], removeImages: [] });
    // Images of a source not configured here (another controller's, on the same Docker) are never touched.
    const other = { tag: "other", source: "elsewhere", lastUsedAt: 0, sizeBytes: 10_000 };
    expect(planImageCleanup({ images: [other], inUse: new Set(), asleep: [], now: 100 * DAY, keepFor: (source) => (source === "web" ? DAY : undefined), disk: { freeBytes: 0, minFreeBytes: 1000 } })).toEqual({ endPreviews: [], removeImages: [] });
  });
});

describe("images kept per source (builds.maxImagesPerSource)", () => {
  const DAY = 86_400_000;
  const image = (tag: string, lastUsedAt: number, source = "web") => ({ tag, source, lastUsedAt, sizeBytes: 100 });

  it("removes the least recently used unused images past the cap, per source, never one that serves or sleeps", () => {
    const plan = planImageCleanup({
      images: [image("w1", 1 * DAY), image("w2", 2 * DAY), image("w3", 3 * DAY), image("w4", 4 * DAY), image("serving", 0), image("asleep", 0), image("o1", 0, "api"), image("o2", 1, "api")],
      inUse: new Set(["serving"]),
      asleep: [{ id: "web-a", image: "asleep", lastSeenAt: 0 }],
      now: 5 * DAY,
      keepFor: () => 7 * DAY,
      maxPerSource: 3,
    });
    // web holds 6 (2 of them live): 3 go, oldest first; api holds 2, under the cap.
    expect(plan.removeImages).toEqual(["w1", "w2", "w3"]);
    // More live ones than the cap: they all stay, and so does nothing else.
    expect(planImageCleanup({ images: [image("a", 0), image("b", 0), image("c", 0)], inUse: new Set(["a", "b"]), asleep: [], now: DAY, keepFor: () => 7 * DAY, maxPerSource: 1 }).removeImages).toEqual(["c"]);
  });
});

describe("build failures: Docker's or the commit's", () => {
  it("tells a step the commit failed from one a stopping daemon killed or cut off", () => {
    expect(theCommitsFault(new Error("The command '/bin/sh -c npm ci' returned a non-zero code: 1"))).toBe(true);
    expect(theCommitsFault(new Error("COPY failed: file not found in build context"))).toBe(true);
    expect(theCommitsFault(new Error("The command '/bin/sh -c sleep 9' returned a non-zero code: 137"))).toBe(false);
    expect(theCommitsFault(new Error("error creating overlay mount to /x/merged: invalid argument"))).toBe(false);
    expect(dockerWentAway(new Error("connect ECONNREFUSED /var/run/docker.sock"))).toBe(true);
    expect(dockerWentAway(new Error("the build ended without an image (did Docker stop?)"))).toBe(true);
    expect(dockerWentAway(new Error("The command 'x' returned a non-zero code: 2"))).toBe(false);
  });
});

describe("a preview's hard end (ttl)", () => {
  const DAY = 86_400_000;
  const withHardEnd = { ...preview, ttl: 7 * DAY, maxLife: 14 * DAY, idleStop: undefined };

  it("ends a preview in use at its hard end, never later; an extension moves the end, and a restart keeps it", async () => {
    const env = setup({ previews: { web: withHardEnd } }, { answering: ALL_PORTS() });
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-pr-3", "img");
    await env.scheduler.runUntil(env.engine.settled());
    expect(demo).toMatchObject({ status: "ready", hardEndAt: demo.createdAt + 14 * DAY, expiresAt: demo.createdAt + 7 * DAY });
    // Used every day: the lease follows its use, up to the hard end and not past it.
    for (let day = 1; day <= 13; day += 1) {
      await env.scheduler.advance(DAY);
      env.engine.previews.sawRequests(["web-pr-3"]);
      await env.engine.reapTick();
    }
    expect(demo.status).toBe("ready");
    expect(demo.expiresAt).toBe(demo.hardEndAt);
    // A push (a new image) does not move it either.
    env.engine.previews.serve("web", "web-pr-3", "img:2");
    expect(demo.expiresAt).toBe(demo.hardEndAt);
    await env.scheduler.runUntil(env.engine.settled());

    // Extended by two days: the hard end moves with the lease; it is in the lease on disk for the next run.
    const before = demo.hardEndAt!;
    await env.engine.extend("web-pr-3", 2 * DAY);
    expect(demo.hardEndAt).toBe(before + 2 * DAY);
    expect(env.saved.at(-1)!.leases).toContainEqual({ id: "web-pr-3", expiresAt: before + 2 * DAY, hardEndAt: before + 2 * DAY });
    await env.engine.close();
    const next = setup({ previews: { web: withHardEnd }, runtime: env.runtime, readiness: env.engine.options.readiness, scheduler: env.scheduler }, { answering: ALL_PORTS(), initial: env.saved.at(-1)! });
    await next.engine.start();
    const adopted = next.engine.get("web-pr-3")!;
    expect(adopted.hardEndAt).toBe(before + 2 * DAY);
    // Used until its end: it ends there, saying why.
    await env.scheduler.advance(before + 2 * DAY - env.scheduler.now() - 1000);
    next.engine.previews.sawRequests(["web-pr-3"]);
    await next.engine.reapTick();
    expect(next.engine.get("web-pr-3")?.status).toBe("ready");
    await env.scheduler.advance(1000);
    await next.engine.reapTick();
    expect(next.engine.getEnded("web-pr-3")).toMatchObject({ status: "expired", reason: "it reached its hard end (the ttl of its source since it was first served)" });
  });

  it("says a preview without use ended for its keep, not its hard end", async () => {
    const env = setup({ previews: { web: withHardEnd } }, { answering: ALL_PORTS() });
    await env.engine.start();
    env.engine.previews.serve("web", "web-main", "img");
    await env.scheduler.runUntil(env.engine.settled());
    await env.scheduler.advance(7 * DAY);
    await env.engine.reapTick();
    expect(env.engine.getEnded("web-main")).toMatchObject({ status: "expired", reason: "it was not used for its source's keep" });
  });
});
