// Unit tests of containers created ahead (apps.<name>.prepared) and of the starting gate, in memory: made, routed
// behind the gate, started by a launch with no create and no routes write, kept (never started) across a restart.
import { describe, expect, it } from "vitest";
import { ALL_PORTS, app, portOf, setup } from "../support/engine-setup.js";

const prepared = { hello: { ...app, prepared: 2 } };
const states = (env: ReturnType<typeof setup>) => [...env.runtime.containers.values()].map((container) => container.state);

describe("containers created ahead", () => {
  it("are told the demo they will serve, but no end of a time box that starts only at the launch (nor the app's word for it)", async () => {
    const env = setup({ apps: { hello: { ...app, prepared: 1, env: { MODE: "demo", DEMO_EXPIRES_AT: "2000-01-01T00:00:00.000Z" } } }, publicOrigin: (host) => `https://${host}` });
    await env.engine.start();
    await env.scheduler.settle();
    const [container] = [...env.runtime.containers.values()];
    const id = container!.labels["demo-launcher.id"]!;
    const { demo } = await env.engine.launch("hello", "client-a");
    expect(demo.id).toBe(id);
    expect(container!.spec!.env).toEqual({ MODE: "demo", DEMO_URL: `https://${demo.host}/`, DEMO_HOST: demo.host, DEMO_ID: id, DEMO_KIND: "visitor", DEMO_FIRST_RUN: "1" });
  });

  it("are created, not started, and routed behind the starting gate; a launch starts one without a create or a routes write", async () => {
    const env = setup({ apps: prepared });
    await env.engine.start();
    await env.scheduler.settle();
    expect(states(env)).toEqual(["created", "created"]);
    expect(env.engine.preparedStatus()).toEqual({ hello: { ready: 2, creating: 0 } });
    // Routed before anyone asked: behind the gate, which says no to a host no demo has.
    const ahead = [...env.runtime.containers.values()].map((container) => container.labels["demo-launcher.id"]!);
    expect(env.writes.at(-1)!.map((route) => [route.id, route.gate])).toEqual(ahead.map((id) => [id, "w0"]));
    expect([...env.runtime.containers.values()].every((container) => container.labels["demo-launcher.prepared"] === "true")).toBe(true);

    const generationBefore = env.engine.currentGeneration();
    const { demo } = await env.engine.launch("hello", "client-a");
    // The oldest one, its visitor's lease on disk before the answer.
    expect(demo.id).toBe(ahead[0]);
    expect(env.saved.at(-1)!.leases).toEqual([expect.objectContaining({ id: demo.id, client: "client-a", expiresAt: demo.expiresAt })]);
    await env.scheduler.settle();
    expect(env.runtime.containers.size).toBe(2);
    expect(env.runtime.containers.get(demo.instances[0]!.containerId!)!.state).toBe("running");
    env.answering.add(portOf(demo));
    await env.settled();
    expect(env.engine.get(demo.id)!.status).toBe("ready");
    // Served with no new routes generation since the launch (the same file: no reload): its route was in nginx already.
    expect(env.engine.currentGeneration()).toBe(generationBefore);
    expect(env.writes.at(-1)!.find((route) => route.id === demo.id)).toEqual({ id: demo.id, host: demo.host, backends: [`127.0.0.1:${portOf(demo)}`], gate: "w0" });
    // The reaper makes the next one and drops the gate of the served demo, in one write.
    await env.scheduler.runUntil(env.engine.reapTick());
    await env.scheduler.settle();
    expect(states(env).sort()).toEqual(["created", "created", "running"]);
    expect(env.writes.at(-1)!.find((route) => route.id === demo.id)).toEqual({ id: demo.id, host: demo.host, backends: [`127.0.0.1:${portOf(demo)}`] });
  });

  it("are kept, never started, by the next run; one claimed but not yet started is started by it", async () => {
    const first = setup({ apps: prepared });
    await first.engine.start();
    await first.scheduler.settle();
    // The controller dies between the claim (lease saved) and Docker's start.
    first.runtime.startPrepared = async () => new Promise<void>(() => {});
    const { demo } = await first.engine.launch("hello", "client-a");
    await first.scheduler.settle();
    const saved = first.saved.at(-1)!;

    const second = setup({ apps: prepared }, { initial: saved, answering: ALL_PORTS() });
    // Under ids of their own: the new runtime numbers its containers from c1 again.
    for (const [id, container] of first.runtime.containers) second.runtime.containers.set(`old-${id}`, { ...container, containerId: `old-${id}` });
    await second.engine.start();
    await second.settled();
    // The claimed one is the visitor's demo, started and served; the other is stock again, still only created.
    expect(second.engine.get(demo.id)).toMatchObject({ status: "ready", owner: "client-a", expiresAt: demo.expiresAt });
    const others = [...second.runtime.containers.values()].filter((container) => container.labels["demo-launcher.id"] !== demo.id);
    expect(others.map((container) => container.state)).toEqual(["created", "created"]);
    expect(second.engine.preparedStatus()).toEqual({ hello: { ready: 2, creating: 0 } });
    expect(second.engine.list().map((entry) => entry.id)).toEqual([demo.id]);
  });

  it("a container created ahead that was started (by hand) is removed by the next run, not adopted", async () => {
    const first = setup({ apps: prepared });
    await first.engine.start();
    await first.scheduler.settle();
    const [started] = [...first.runtime.containers.values()];
    started!.state = "running";
    const second = setup({ apps: prepared });
    for (const [id, container] of first.runtime.containers) second.runtime.containers.set(`old-${id}`, { ...container, containerId: `old-${id}` });
    await second.engine.start();
    await second.scheduler.settle();
    expect(second.runtime.removed).toEqual([`old-${started!.containerId}`]);
    expect(second.engine.list()).toEqual([]);
    await first.engine.close();
  });

  it("go with the demos when the launcher stops them all (up's Ctrl-C), and none is made after", async () => {
    const env = setup({ apps: prepared });
    await env.engine.start();
    await env.scheduler.settle();
    const { demo } = await env.engine.launch("hello", "client-a");
    await env.scheduler.settle();
    env.answering.add(portOf(demo));
    await env.settled();
    expect(states(env).sort()).toEqual(["created", "running"]);
    expect(await env.engine.stopAll()).toBe(1);
    await env.scheduler.runUntil(env.engine.reapTick());
    await env.scheduler.settle();
    expect([env.runtime.containers.size, env.engine.preparedStatus()]).toEqual([0, { hello: { ready: 0, creating: 0 } }]);
  });

  it("are not made below the free-disk floor, and a port taken meanwhile costs one more create, not the launch", async () => {
    const env = setup({ apps: prepared });
    env.engine.gate.setLowDisk({ freeBytes: 1, floorBytes: 2 });
    await env.engine.start();
    await env.scheduler.settle();
    expect(env.runtime.containers.size).toBe(0);
    env.engine.gate.setLowDisk(undefined);
    await env.scheduler.runUntil(env.engine.reapTick());
    await env.scheduler.settle();
    expect(states(env)).toEqual(["created", "created"]);
    // Someone else binds the port of the oldest before a visitor comes.
    const oldest = [...env.runtime.containers.values()][0]!;
    env.runtime.busyPorts.add(Number(oldest.endpoint!.split(":")[1]));
    const { demo } = await env.engine.launch("hello", "client-a");
    expect(demo.id).toBe(oldest.labels["demo-launcher.id"]);
    await env.scheduler.settle();
    env.answering.add(portOf(demo));
    await env.settled();
    expect(env.engine.get(demo.id)!.status).toBe("ready");
    expect(env.runtime.removed).toContain(oldest.containerId);
    expect(demo.instances[0]!.generation).toBe(2);
  });
});

describe("a launch that waits in line for Docker's start", () => {
  it("gives its app its whole readiness time from the start, not from the launch", async () => {
    const env = setup({}, { answering: ALL_PORTS() });
    await env.engine.start();
    // Docker's start slots are taken for longer than the app's readiness timeout (5 s here).
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const start = env.runtime.startPrepared.bind(env.runtime);
    env.runtime.startPrepared = async (containerId) => {
      await held;
      return start(containerId);
    };
    const { demo } = await env.engine.launch("hello", "a");
    await env.scheduler.settle();
    await env.scheduler.advance(8_000);
    expect(env.engine.get(demo.id)!.status).toBe("starting");
    release();
    await env.settled();
    expect(env.engine.get(demo.id)!.status).toBe("ready");
  });
});
