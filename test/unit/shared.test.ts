// Unit tests of shared demos, rewind jobs and their reconciliation, on in-memory edges (the real ones: test/system).
import { describe, expect, it } from "vitest";
import { JobBook, type Job } from "../../src/core/state/jobs.js";
import { ensurePools } from "../../src/core/demos/pool.js";
import { LABELS_FORMAT, labelsFor, labelsFormatOf, viewOf } from "../../src/core/model.js";
import { planReconcile } from "../../src/core/instances/reconcile.js";
import { syncWithDocker } from "../../src/core/instances/sync.js";
import type { StateRestorer } from "../../src/core/state/state-sources.js";
import type { EngineState } from "../../src/core/runtime.js";
import { addContainer, ALL_PORTS, app, labelsOf, setup } from "../support/engine-setup.js";

const NOW = 1_000_000;

describe("shared demos", () => {
  it("start with their replicas behind one host, outside visitor limits, and a reset swaps all of them in one publish", async () => {
    const env = setup({ shared: [{ name: "try-it", app: "hello", replicas: 3 }], limits: { maxDemos: 1, perClient: 1, queueLength: 0, launchesPerClient: 10, launchWindow: 60_000 } }, { answering: ALL_PORTS() });
    await env.engine.start();
    await env.scheduler.runUntil(env.engine.settled());
    const demo = env.engine.get("try-it")!;
    expect(demo).toMatchObject({ kind: "shared", host: "try-it.demo.localhost", status: "ready" });
    // Created by this start, not found in Docker: the start line says 0 adopted.
    expect(env.engine.adoptedAtStart).toBe(0);
    expect(env.writes.at(-1)!.find((route) => route.id === "try-it")!.backends).toHaveLength(3);
    expect((await env.engine.launch("hello", "visitor")).demo.status).toBe("starting");

    const before = demo.instances.map((instance) => instance.endpoint);
    env.engine.shared.requestReset("try-it", "requested");
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.engine.shared.resets.get("try-it")).toMatchObject({ status: "succeeded", trigger: "requested" });
    // Every publish routed the host to three replicas: the old three, then the new three, never a mix or fewer.
    const published = env.writes.map((routes) => routes.find((route) => route.id === "try-it")?.backends ?? []).filter((backends) => backends.length > 0);
    const afterFirstReady = published.slice(published.findIndex((backends) => backends.length === 3));
    expect(afterFirstReady.every((backends) => backends.length === 3)).toBe(true);
    expect(demo.instances.map((instance) => instance.endpoint).some((endpoint) => before.includes(endpoint))).toBe(false);
    expect(demo.instances.map((instance) => instance.generation)).toEqual([4, 5, 6]);
    // No time box: nothing to extend, and its view carries no expiry (no 2036 in `ls --json`).
    await expect(env.engine.extend("try-it", 3_600_000)).rejects.toMatchObject({ data: { code: "shared-no-time-box", id: "try-it" } });
    const view = viewOf(demo, "http://try-it.demo.localhost/", env.scheduler.now());
    expect(view).not.toHaveProperty("expiresAt");
    expect(view).not.toHaveProperty("secondsLeft");
  });

  it("get no new replica once a shutdown began, even when a supervisor pass runs beside the removal (no create call)", async () => {
    const env = setup({ shared: [{ name: "try-it", app: "hello", replicas: 2 }], apps: { hello: { ...app, pool: 1 } }, limits: { maxDemos: 3, perClient: 1, queueLength: 2, launchesPerClient: 10, launchWindow: 60_000 } }, { answering: ALL_PORTS() });
    await env.engine.start();
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.engine.registry.all().map((demo) => [demo.id, demo.status, demo.instances.length, demo.pooled ?? false])).toEqual([["try-it", "ready", 2, false], ["demo0001", "ready", 1, true]]);
    const created: string[] = [];
    const createAndStart = env.runtime.createAndStart.bind(env.runtime);
    env.runtime.createAndStart = (spec) => {
      created.push(spec.instanceId);
      return createAndStart(spec);
    };
    const stopping = env.engine.stopAll();
    // The reaper's pass (shared demos, pools, the line) as Ctrl-C would meet it: while the demos are being removed.
    env.engine.shared.ensure();
    ensurePools(env.engine.core, () => "pool0002");
    env.engine.core.promoteQueued();
    expect(await env.scheduler.runUntil(stopping)).toBe(2);
    await env.scheduler.runUntil(env.engine.settled());
    expect(created).toEqual([]);
    expect(env.runtime.containers.size).toBe(0);
    expect(env.engine.list()).toEqual([]);
    await expect(env.engine.launch("hello", "late")).rejects.toThrow(/shutting-down/);
  });

  it("keep the old replicas serving when the new ones fail, and say why", async () => {
    const answering = ALL_PORTS();
    const env = setup({ shared: [{ name: "try-it", app: "hello", replicas: 2 }], apps: { hello: { ...app, readiness: { path: "/", timeout: 2_000 } } } }, { answering });
    await env.engine.start();
    await env.scheduler.runUntil(env.engine.settled());
    const demo = env.engine.get("try-it")!;
    const serving = demo.instances.map((instance) => instance.endpoint);
    answering.clear();
    for (const endpoint of serving) answering.add(Number(endpoint!.split(":")[1]));
    env.engine.shared.requestReset("try-it", "scheduled");
    for (let step = 0; step < 40 && env.engine.shared.resets.get("try-it")?.status === "running"; step += 1) {
      await env.scheduler.advance(250);
    }
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.engine.shared.resets.get("try-it")).toMatchObject({ status: "failed", reason: expect.stringMatching(/did not answer/) });
    expect(demo.instances.map((instance) => instance.endpoint)).toEqual(serving);
  });

  it("are adopted after a restart with their routed replicas only: an interrupted reset's new ones are drained", () => {
    const expiresAt = NOW + 10 * 365 * 86_400_000;
    const labels = (generation: number) => ({ ...labelsOf("try-it", { expiresAt, generation }), "demo-launcher.kind": "shared", "demo-launcher.host": "try-it.demo.localhost" });
    const container = (generation: number, port: number) => ({ containerId: `c${generation}`, labels: labels(generation), state: "running" as const, endpoint: `127.0.0.1:${port}` });
    const actions = planReconcile({
      containers: [container(1, 20001), container(2, 20002), container(3, 20003), container(4, 20004)],
      liveDemos: [],
      ended: () => undefined,
      asleep: () => false,
      lease: () => undefined,
      creating: new Set(),
      published: new Map([["try-it.demo.localhost", ["127.0.0.1:20001", "127.0.0.1:20002"]]]),
      now: NOW,
      aroundOutage: false,
    });
    const adopted = actions.find((action) => action.kind === "adopt");
    expect(adopted?.kind === "adopt" && adopted.await).toBeUndefined();
    expect(adopted?.kind === "adopt" && adopted.demo.instances.map((instance) => [instance.generation, instance.health])).toEqual([[1, "healthy"], [2, "healthy"], [3, "draining"], [4, "draining"]]);
  });
});

describe("containers of what the config does not name", () => {
  it("are left alone (not adopted, routed or removed) and reported once: a shared demo, an app, a preview source", async () => {
    const expiresAt = NOW + 10 * 365 * 86_400_000;
    const env = setup({}, { answering: ALL_PORTS(), routedHosts: new Map([["gone.demo.localhost", ["127.0.0.1:20001"]]]) });
    addContainer(env.runtime, "g1", { ...labelsOf("gone", { expiresAt }), "demo-launcher.kind": "shared", "demo-launcher.host": "gone.demo.localhost" }, "running", 20001);
    addContainer(env.runtime, "o1", { ...labelsOf("other001", { expiresAt }), "demo-launcher.app": "wordpress" }, "running", 20002);
    addContainer(env.runtime, "p1", { ...labelsOf("web-main", { expiresAt }), "demo-launcher.kind": "preview", "demo-launcher.app": "web" }, "exited", 20003);
    addContainer(env.runtime, "h1", labelsOf("mine0001", { expiresAt }), "running", 20004);
    await env.engine.start();
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.engine.list().map((demo) => demo.id)).toEqual(["mine0001"]);
    expect(env.engine.getEnded("gone")).toBeUndefined();
    expect([...env.runtime.containers.keys()].sort()).toEqual(["g1", "h1", "o1", "p1"]);
    expect(env.writes.at(-1)!.map((route) => route.id)).toEqual(["mine0001"]);
    // The reaper's Docker syncs see them again: still left, and not reported again.
    await syncWithDocker(env.engine.core);
    await syncWithDocker(env.engine.core);
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.runtime.containers.size).toBe(4);
    const reports = env.logged.filter((line) => line.includes("does not name"));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/^warn namespace t: 3 container\(s\) of what this config does not name \(shared hello, visitor wordpress, preview web\) are left alone: not adopted, routed or removed; if they are nobody's, remove them with docker rm -f g1 o1 p1$/);
  });
});

describe("labels of another format", () => {
  it("a newer release's container is left alone and reported once; one without the format label (an older release's) is adopted", async () => {
    const expiresAt = NOW + 10 * 365 * 86_400_000;
    const env = setup({}, { answering: ALL_PORTS() });
    const older = labelsOf("older001", { expiresAt });
    delete older["demo-launcher.format"];
    addContainer(env.runtime, "n1", { ...labelsOf("newer001", { expiresAt }), "demo-launcher.format": "2" }, "running", 20001);
    addContainer(env.runtime, "o1", older, "running", 20002);
    addContainer(env.runtime, "c1", labelsOf("current1", { expiresAt }), "running", 20003);
    await env.engine.start();
    await env.scheduler.runUntil(env.engine.settled());
    await syncWithDocker(env.engine.core);
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.engine.list().map((demo) => demo.id).sort()).toEqual(["current1", "older001"]);
    expect([...env.runtime.containers.keys()].sort()).toEqual(["c1", "n1", "o1"]);
    expect(env.writes.at(-1)!.map((route) => route.id).sort()).toEqual(["current1", "older001"]);
    const reports = env.logged.filter((line) => line.includes("newer demo-launcher"));
    expect(reports).toEqual(["warn namespace t: 1 container(s) carry labels of format 2, written by a newer demo-launcher (this one reads formats up to 1): left alone, not adopted, routed or removed; start the newer release again to take them over (n1)"]);
  });

  it("say their format on every container made", () => {
    expect(labelsFor({ demo: { id: "abcd1234", kind: "visitor", app: "hello", host: "abcd1234.demo.localhost", createdAt: 1, expiresAt: 2, namespace: "t" }, instance: { id: "abcd1234-1", generation: 1, image: "hello" } })["demo-launcher.format"]).toBe(String(LABELS_FORMAT));
    expect([labelsFormatOf({}), labelsFormatOf({ "demo-launcher.format": "3" }), labelsFormatOf({ "demo-launcher.format": "x" })]).toEqual([1, 3, Number.NaN]);
  });
});

describe("rewind jobs", () => {
  it("are answered only once the state file holds the job, so a controller killed right after resumes it", async () => {
    const state = { default: "fixtures", sources: { fixtures: { kind: "dump" as const, driver: "postgres" as const, file: "/f.sql", database: "notes", timeout: 60_000 } } };
    const written: EngineState[] = [];
    let letWritesThrough = true;
    let held: Array<() => void> = [];
    const stateStore = {
      load: async (): Promise<EngineState> => ({ ended: [], queued: [] }),
      save: async (snapshot: EngineState) => {
        if (!letWritesThrough) await new Promise<void>((resolve) => held.push(resolve));
        written.push(structuredClone(snapshot));
      },
    };
    const env = setup({ apps: { hello: { ...app, state } }, restorer: { restore: async () => {} }, stateStore }, { answering: ALL_PORTS() });
    await env.engine.start();
    const { demo } = await env.engine.launch("hello", "a");
    await env.scheduler.runUntil(env.engine.settled());
    letWritesThrough = false;
    let answered: Job | undefined;
    const rewinding = env.engine.rewind(demo.id).then(({ job }) => (answered = job));
    await env.scheduler.settle();
    expect(answered).toBeUndefined();
    letWritesThrough = true;
    for (const release of held) release();
    held = [];
    const job = await rewinding;
    expect(written.some((snapshot) => snapshot.jobs?.some((saved) => saved.id === job.id))).toBe(true);
    await env.scheduler.runUntil(env.engine.settled());
  });

  it("run once per demo at a time, end done or failed with the restorer's words, and a restart runs an interrupted one once more", async () => {
    const calls: string[] = [];
    let fail: string | undefined;
    const restorer: StateRestorer = {
      async restore(containerId, source) {
        calls.push(`${containerId}:${source.file}`);
        if (fail) throw new (await import("../../src/core/state/state-sources.js")).RestoreFailure(fail);
      },
    };
    const state = { default: "fixtures", sources: { fixtures: { kind: "dump" as const, driver: "postgres" as const, file: "/f.sql", database: "notes", timeout: 60_000 } } };
    const env = setup({ apps: { hello: { ...app, state } }, restorer }, { answering: ALL_PORTS() });
    await env.engine.start();
    const { demo } = await env.engine.launch("hello", "a");
    await env.scheduler.runUntil(env.engine.settled());
    const [first, again] = await Promise.all([env.engine.rewind(demo.id), env.engine.rewind(demo.id)]);
    expect(again.job.id).toBe(first.job.id);
    await env.scheduler.runUntil(env.engine.settled());
    expect(first.job).toMatchObject({ status: "done", source: "fixtures", attempts: 1 });
    fail = "psql: ERROR: syntax error at or near \"THIS\"";
    const second = (await env.engine.rewind(demo.id, "fixtures")).job;
    await env.scheduler.runUntil(env.engine.settled());
    expect(second).toMatchObject({ status: "failed", reason: fail });
    expect(calls).toHaveLength(2);
    await expect(env.engine.rewind(demo.id, "nope")).rejects.toThrow(/unknown-state-source/);

    const book = new JobBook();
    const saved: Job[] = [{ ...first.job, id: "j1", status: "running", attempts: 1 }, { ...first.job, id: "j2", status: "running", attempts: 2 }, { ...first.job, id: "j3", status: "done" }];
    expect(book.restore(saved).map((job) => job.id)).toEqual(["j1", "j2"]);
    expect(book.activeFor(first.job.demoId, "rewind")?.id).toBe("j1");
    expect(book.activeFor(first.job.demoId, "snapshot")).toBeUndefined();
  });
});
