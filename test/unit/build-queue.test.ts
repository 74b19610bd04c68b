// Unit tests of the build queue: one build per commit or branch, the concurrency, a bounded line, restarts.
import { describe, expect, it } from "vitest";
import { BuildQueue } from "../../src/core/builds/build-queue.js";
import { DomainError } from "../../src/core/errors.js";

function queue(limits = { concurrency: 2, queueLength: 3 }) {
  let ids = 0;
  return new BuildQueue(limits, () => `b${(ids += 1)}`);
}

describe("build queue", () => {
  it("shares one build among everyone who asks for the same commit or the same branch", () => {
    const builds = queue();
    const first = builds.request({ source: "web", commit: "0123456789abcdef0123456789abcdef01234567" }, 0);
    expect(first.created).toBe(true);
    expect(builds.request({ source: "web", commit: "0123456789ab" }, 1)).toEqual({ build: first.build, created: false });
    const branch = builds.request({ source: "web", branch: "main" }, 2);
    expect(builds.request({ source: "web", branch: "main" }, 3).build).toBe(branch.build);
    expect(builds.request({ source: "api", branch: "main" }, 4).created).toBe(true);
  });

  it("starts at most `concurrency` builds, first come first served, and refuses past the line with Retry-After", () => {
    const builds = queue({ concurrency: 2, queueLength: 3 });
    for (const branch of ["a", "b", "c"]) builds.request({ source: "web", branch }, 0);
    expect(builds.startable().map((build) => build.branch)).toEqual(["a", "b"]);
    for (const build of builds.startable()) builds.advance(build.id, "fetching", 1);
    expect(builds.startable().map((build) => build.branch)).toEqual([]);
    builds.request({ source: "web", branch: "d" }, 2);
    builds.request({ source: "web", branch: "e" }, 2);
    let refusal: unknown;
    try {
      builds.request({ source: "web", branch: "f" }, 3);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DomainError);
    expect((refusal as DomainError).data).toEqual({ code: "build-queue-full", queueLength: 3, retryAfterSeconds: 90 });
    builds.advance("b1", "failed", 4, { reason: "the repository could not be fetched" });
    expect(builds.startable().map((build) => build.branch)).toEqual(["c"]);
    expect(builds.get("b1")).toMatchObject({ state: "failed", finishedAt: 4, reason: "the repository could not be fetched" });
    // A finished build is not moved again.
    expect(builds.advance("b1", "ready", 5)).toBeUndefined();
  });

  it("after a restart: queued builds wait again, a running one is started once more, twice interrupted fails", () => {
    const before = queue();
    const queued = before.request({ source: "web", branch: "queued" }, 0).build;
    const once = before.request({ source: "web", branch: "once" }, 0).build;
    const twice = before.request({ source: "web", branch: "twice" }, 0).build;
    before.advance(once.id, "fetching", 1);
    before.advance(once.id, "building", 2);
    before.advance(twice.id, "fetching", 1);
    twice.attempts = 2;
    const after = queue();
    after.restore(structuredClone(before.all()), 10);
    expect(after.get(queued.id)!.state).toBe("queued");
    expect(after.get(once.id)).toMatchObject({ state: "queued", attempts: 1 });
    expect(after.get(twice.id)).toMatchObject({ state: "failed", reason: "interrupted twice by a restart of the controller", finishedAt: 10 });
  });
});
