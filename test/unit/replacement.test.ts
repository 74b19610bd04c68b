// Unit tests of zero-downtime replacement and of reconciliation during one, on in-memory edges.
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { planReconcile } from "../../src/core/instances/reconcile.js";
import { addContainer, ALL_PORTS, app, labelsOf, setup } from "../support/engine-setup.js";

const NOW = 1_000_000;

async function readyDemo(options: Parameters<typeof setup>[0] = {}, answering = ALL_PORTS()) {
  const env = setup(options, { answering });
  await env.engine.start();
  const { demo } = await env.engine.launch("hello", "a");
  await env.scheduler.runUntil(env.engine.settled());
  expect(demo.status).toBe("ready");
  return { ...env, demo };
}

describe("replacement", () => {
  it("starts the new instance, switches the route to it in one publish, then drains and removes the old one", async () => {
    const { engine, runtime, writes, demo, scheduler } = await readyDemo();
    const oldEndpoint = demo.instances[0]!.endpoint!;
    const oldContainer = demo.instances[0]!.containerId!;
    await engine.replace(demo.id, "img:2");
    expect(demo.replacement).toMatchObject({ status: "running", image: "img:2" });
    await scheduler.runUntil(engine.settled());
    expect(demo.replacement).toMatchObject({ status: "succeeded", image: "img:2" });
    expect(demo.instances).toMatchObject([{ generation: 2, image: "img:2", health: "healthy" }]);
    // Every publish routed the host to exactly one endpoint: the old one until the switch, then the new one.
    const published = writes.flatMap((routes) => routes.filter((route) => route.id === demo.id).map((route) => route.backends));
    expect(published.every((backends) => backends.length === 1)).toBe(true);
    expect(published.at(-1)).toEqual([demo.instances[0]!.endpoint]);
    expect(published).toContainEqual([oldEndpoint]);
    expect(runtime.removed).toEqual([oldContainer]);
    expect(runtime.containers.get(demo.instances[0]!.containerId!)!.spec!.labels).toMatchObject({ "demo-launcher.instance": `${demo.id}-2`, "demo-launcher.generation": "2", "demo-launcher.image": "img:2" });
  });

  it("leaves the old instance serving when the new one crashes, with the reason on the demo", async () => {
    // Only the first instance's port answers: the in-memory runtime gives the new one the next port.
    const { engine, runtime, demo, scheduler } = await readyDemo({}, new Set([20000]));
    const before = demo.instances.map((instance) => instance.containerId);
    await engine.replace(demo.id, "img:2");
    await scheduler.settle();
    const next = [...runtime.containers.values()].find((container) => container.labels["demo-launcher.generation"] === "2")!;
    runtime.halt(next.containerId, 3);
    await scheduler.runUntil(engine.settled());
    expect(demo.replacement).toMatchObject({ status: "failed", reason: "the app stopped while starting: it exited with code 3" });
    expect(demo.status).toBe("ready");
    expect(demo.instances.map((instance) => instance.containerId)).toEqual(before);
    expect(runtime.containers.has(next.containerId)).toBe(false);
  });

  it("keeps the old instance when nginx does not confirm the switch", async () => {
    let confirmations = 0;
    const env = setup({ routeConfirmTimeoutMs: 1 }, { answering: ALL_PORTS(), confirm: async () => (confirmations += 1) === 1 });
    await env.engine.start();
    const { demo } = await env.engine.launch("hello", "a");
    await env.scheduler.runUntil(env.engine.settled());
    const old = demo.instances[0]!;
    await env.engine.replace(demo.id, "img:2");
    await env.scheduler.runUntil(env.engine.settled());
    expect(demo.replacement).toMatchObject({ status: "failed", reason: "nginx did not confirm the switch to the new instance (check the watcher)" });
    expect(demo.instances).toEqual([{ ...old, health: "healthy" }]);
    expect(env.writes.at(-1)!.find((route) => route.id === demo.id)!.backends).toEqual([old.endpoint]);
  });

  it("refuses an image that is not there, a demo that is not ready, and a second replacement at once", async () => {
    const { engine, demo, scheduler } = await readyDemo({ limits: { maxDemos: 3, perClient: 2, queueLength: 2, launchesPerClient: 3, launchWindow: 600_000 } });
    await expect(engine.replace(demo.id, "nope:1")).rejects.toMatchObject({ data: { code: "missing-image", image: "nope:1" } });
    await expect(engine.replace("missing1")).rejects.toMatchObject({ data: { code: "no-such-demo", id: "missing1" } });
    const starting = (await engine.launch("hello", "a")).demo;
    await expect(engine.replace(starting.id)).rejects.toMatchObject({ data: { code: "not-replaceable", status: "starting" } });
    await engine.replace(demo.id);
    const second = engine.replace(demo.id);
    await expect(second).rejects.toBeInstanceOf(DomainError);
    await expect(second).rejects.toMatchObject({ data: { code: "replacement-running", image: "img" } });
    await scheduler.runUntil(engine.settled());
  });

  it("ends both instances when the demo is stopped in the middle of a replacement", async () => {
    const { engine, runtime, demo, scheduler } = await readyDemo();
    await engine.replace(demo.id, "img:2");
    await scheduler.settle();
    await engine.stop(demo.id);
    await scheduler.runUntil(engine.settled());
    expect(runtime.containers.size).toBe(0);
  });

  it("after a restart mid-replacement: the routed instance serves, a newer one is finished, an older one goes", async () => {
    const expiresAt = NOW + 60_000;
    // Killed before the switch: generation 1 routed, generation 2 started.
    const answering = new Set([20001]);
    const before = setup({}, { answering, routedHosts: new Map([["aaaa0001.demo.localhost", ["127.0.0.1:20001"]]]) });
    addContainer(before.runtime, "old", labelsOf("aaaa0001", { expiresAt, generation: 1 }), "running", 20001);
    addContainer(before.runtime, "new", labelsOf("aaaa0001", { expiresAt, generation: 2, image: "img:2" }), "running", 20002);
    await before.engine.start();
    expect(before.engine.get("aaaa0001")!.status).toBe("ready");
    expect(before.writes[0]!.find((route) => route.id === "aaaa0001")!.backends).toEqual(["127.0.0.1:20001"]);
    answering.add(20002);
    await before.scheduler.runUntil(before.engine.settled());
    expect(before.engine.get("aaaa0001")).toMatchObject({ status: "ready", replacement: { status: "succeeded", image: "img:2" }, instances: [{ generation: 2, health: "healthy" }] });
    expect([...before.runtime.containers.keys()]).toEqual(["new"]);

    // Killed after the switch, during the drain: generation 2 routed, generation 1 left over.
    const after = setup({}, { answering: ALL_PORTS(), routedHosts: new Map([["aaaa0001.demo.localhost", ["127.0.0.1:20002"]]]) });
    addContainer(after.runtime, "old", labelsOf("aaaa0001", { expiresAt, generation: 1 }), "running", 20001);
    addContainer(after.runtime, "new", labelsOf("aaaa0001", { expiresAt, generation: 2, image: "img:2" }), "running", 20002);
    await after.engine.start();
    // The old one is not routed, but nginx's old workers may still have requests for it: it drains first.
    expect(after.engine.get("aaaa0001")).toMatchObject({ status: "ready", instances: [{ generation: 1, health: "draining" }, { generation: 2, health: "healthy" }] });
    expect(after.writes[0]!.find((route) => route.id === "aaaa0001")!.backends).toEqual(["127.0.0.1:20002"]);
    await after.scheduler.runUntil(after.engine.settled());
    expect(after.engine.get("aaaa0001")).toMatchObject({ status: "ready", instances: [{ generation: 2, health: "healthy" }] });
    expect([...after.runtime.containers.keys()]).toEqual(["new"]);
  });

  it("plans reconciliation per container: two containers of a replacement are normal, strays and half-made ones go", () => {
    const expiresAt = NOW + 60_000;
    const container = (id: string, demoId: string, generation: number, state: "running" | "created" | "exited", port: number) => ({ containerId: id, labels: labelsOf(demoId, { expiresAt, generation }), state, endpoint: `127.0.0.1:${port}` });
    const actions = planReconcile({
      containers: [container("a1", "aaaa0001", 1, "running", 20001), container("a2", "aaaa0001", 2, "running", 20002), container("a3", "aaaa0001", 3, "created", 20003), container("b1", "bbbb0001", 1, "running", 20004), container("b0", "bbbb0001", 0 + 1, "exited", 20005)],
      liveDemos: [],
      ended: () => undefined,
      asleep: () => false,
      lease: () => undefined,
      creating: new Set(),
      published: new Map([["aaaa0001.demo.localhost", ["127.0.0.1:20001"]]]),
      now: NOW,
      aroundOutage: false,
    });
    expect(actions.filter((action) => action.kind === "remove").map((action) => action.kind === "remove" && action.containerId)).toEqual(["a3", "b0"]);
    const adopted = actions.flatMap((action) => (action.kind === "adopt" ? [action] : []));
    expect(adopted.map((action) => [action.demo.id, action.demo.status, action.await?.as])).toEqual([
      ["aaaa0001", "ready", "replacement"],
      ["bbbb0001", "starting", "launch"],
    ]);
    expect(adopted[0]!.demo.instances.map((instance) => [instance.generation, instance.health])).toEqual([
      [1, "healthy"],
      [2, "starting"],
    ]);
  });
});

describe("a cluster that moves an instance", () => {
  it("follows it once the app answers there: the route goes to the new endpoint, and a visitor's demo says it started fresh", async () => {
    const { engine, runtime, writes, demo, answering, scheduler } = await readyDemo();
    const container = runtime.containers.get(demo.instances[0]!.containerId!)!;
    // What Swarm does when a node dies: the same service (same id), a new task elsewhere.
    container.endpoint = "10.213.0.12:31001";
    await engine.syncWithDocker();
    expect(demo.instances[0]!.endpoint).toBe("10.213.0.12:31001");
    // "Running" in the cluster is not "answering": until the readiness probe passes its host shows the starting page
    // (routed behind the starting gate, which says no until then).
    expect(demo.status).toBe("starting");
    expect(writes.at(-1)!.find((route) => route.id === demo.id)).toMatchObject({ backends: ["10.213.0.12:31001"], gate: "w0" });
    answering.add(31001);
    await scheduler.runUntil(engine.settled());
    await scheduler.runUntil(engine.reapTick());
    expect(writes.at(-1)!.find((route) => route.id === demo.id)).toEqual({ id: demo.id, host: demo.host, backends: ["10.213.0.12:31001"] });
    expect(demo.status).toBe("ready");
    expect(demo.notice).toMatch(/moved to another machine and started fresh/);
    // Nothing moves when nothing changed.
    const publishes = writes.length;
    await engine.syncWithDocker();
    expect(writes.length).toBe(publishes);
  });
});

describe("restart", () => {
  it("never publishes routes without a demo that was routed before, even when an adopted launch finishes first", async () => {
    const expiresAt = NOW + 60_000;
    const env = setup({}, { answering: ALL_PORTS(), routedHosts: new Map([["zzzz0003.demo.localhost", ["127.0.0.1:20003"]]]) });
    // In listing order: a launch whose app answers at once, a dead container (a slow removal), the routed demo.
    addContainer(env.runtime, "s1", labelsOf("aaaa0001", { expiresAt }), "running", 20001);
    addContainer(env.runtime, "x2", labelsOf("mmmm0002", { expiresAt }), "exited", 20002);
    addContainer(env.runtime, "r3", labelsOf("zzzz0003", { expiresAt }), "running", 20003);
    const remove = env.runtime.remove.bind(env.runtime);
    env.runtime.remove = async (id) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await remove(id);
    };
    await env.engine.start();
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.engine.get("aaaa0001")!.status).toBe("ready");
    expect(env.writes.length).toBeGreaterThan(0);
    for (const routes of env.writes) expect(routes.map((route) => route.id)).toContain("zzzz0003");
  });
});

describe("a restart while a cluster moves a demo", () => {
  it("waits for a demo that was routed and is being started again elsewhere, with a readiness window of its own", async () => {
    const answering = new Set<number>();
    // Launched long ago (its launch's readiness window closed), routed before the restart to a node that is gone.
    const env = setup({}, { answering, routedHosts: new Map([["mmmm0001.demo.localhost", ["10.213.0.12:31001"]]]) });
    addContainer(env.runtime, "s1", labelsOf("mmmm0001", { expiresAt: NOW + 600_000, createdAt: NOW - 300_000 }), "restarting", 20001);
    // Swarm lists the service with no running task: no endpoint until it runs on another node.
    delete env.runtime.containers.get("s1")!.endpoint;
    await env.engine.start();
    const demo = env.engine.get("mmmm0001")!;
    expect(demo).toMatchObject({ status: "starting", notice: expect.stringMatching(/started again .* what you did before is gone/) });
    // Still waiting after a poll (its old launch's 5 s are long gone), not failed.
    await env.scheduler.advance(20);
    expect(env.engine.get("mmmm0001")?.status).toBe("starting");
    const container = env.runtime.containers.get("s1")!;
    container.state = "running";
    container.endpoint = "127.0.0.1:20001";
    answering.add(20001);
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.engine.getEnded("mmmm0001")).toBeUndefined();
    expect(demo.status).toBe("ready");
    expect(env.writes.at(-1)!.find((route) => route.id === "mmmm0001")!.backends).toEqual(["127.0.0.1:20001"]);
  });

  it("still fails an interrupted first launch whose readiness window closed while no controller ran", async () => {
    const env = setup({}, { answering: new Set() });
    addContainer(env.runtime, "s1", labelsOf("nnnn0001", { expiresAt: NOW + 600_000, createdAt: NOW - 300_000 }), "running", 20001);
    await env.engine.start();
    await env.scheduler.runUntil(env.engine.settled());
    expect(env.engine.getEnded("nnnn0001")).toMatchObject({ status: "failed", reason: expect.stringMatching(/did not answer/) });
  });
});

describe("previews", () => {
  it("a branch that moves while its preview is still starting gets the newest image once it is ready", async () => {
    const answering = new Set<number>();
    const env = setup({ previews: { web: { ...app, ttl: 7 * 86_400_000, banner: false } } }, { answering });
    await env.engine.start();
    const demo = env.engine.previews.serve("web", "web-main", "img");
    expect(demo).toMatchObject({ kind: "preview", host: "web-main.demo.localhost", status: "starting" });
    env.engine.previews.serve("web", "web-main", "img:2");
    env.engine.previews.serve("web", "web-main", "crash:1");
    env.engine.previews.serve("web", "web-main", "img:2");
    for (let port = 20000; port <= 20009; port += 1) answering.add(port);
    await env.scheduler.runUntil(env.engine.settled());
    expect(demo.status).toBe("ready");
    expect(demo.instances.map((instance) => [instance.image, instance.health])).toEqual([["img:2", "healthy"]]);
    expect(demo.wantedImage).toBeUndefined();
    // Previews take no visitor slot, and their routes carry no banner.
    expect(env.engine.list().map((entry) => entry.id)).toEqual(["web-main"]);
    expect((await env.engine.launch("hello", "v")).created).toBe(true);
    expect(env.writes.at(-1)!.find((route) => route.id === "web-main")!.banner).toBeUndefined();
    await env.scheduler.runUntil(env.engine.settled());
  });
});
