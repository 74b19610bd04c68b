// Unit tests of the engine with in-memory fakes of Docker, the probe, nginx and the clock.
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/core/errors.js";
import { viewOf } from "../../src/core/model.js";
import type { EngineState } from "../../src/core/runtime.js";
import { addContainer, ALL_PORTS, app, labelsOf, portOf, setup } from "../support/engine-setup.js";

async function catchRefusal(action: () => Promise<unknown>): Promise<DomainError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError");
}

describe("engine", () => {
  it("launches, routes it behind the starting gate while the app starts, reports ready once it answers, then drops the gate", async () => {
    const { engine, runtime, writes, answering, scheduler } = setup();
    await engine.start();
    const { demo, created } = await engine.launch("hello", "client-a");
    expect(created).toBe(true);
    expect(demo.status).toBe("starting");
    expect(demo.host).toBe(`${demo.id}.demo.localhost`);
    await scheduler.settle();
    const container = [...runtime.containers.values()][0]!;
    expect(container.spec!.labels["demo-launcher.id"]).toBe(demo.id);
    expect(container.spec!.labels["demo-launcher.instance"]).toBe(`${demo.id}-1`);
    // Routed before it answers, behind the gate: nginx asks the controller, which says no until the app answers.
    expect(writes.at(-1)).toEqual([{ id: demo.id, host: demo.host, backends: [`127.0.0.1:${portOf(demo)}`], gate: "w0" }]);
    const writesBeforeAnswer = writes.length;
    answering.add(portOf(demo));
    await scheduler.runUntil(engine.settled());
    expect(engine.get(demo.id)!.status).toBe("ready");
    // Ready without another write: opening the gate is the controller's answer, not a reload.
    expect(writes.length).toBe(writesBeforeAnswer);
    // The generation continues from the file on disk, so nginx's probe never sees it go backwards.
    expect(engine.currentGeneration()).toBe(9);
    // The next reaper pass writes the route without the gate.
    await scheduler.runUntil(engine.reapTick());
    expect(writes.at(-1)).toEqual([{ id: demo.id, host: demo.host, backends: [`127.0.0.1:${portOf(demo)}`] }]);
  });

  it("tells the demo's container who it is (DEMO_URL, DEMO_ID, …) over the app's own env", async () => {
    const { engine, runtime, scheduler } = setup({ apps: { hello: { ...app, env: { APP_MODE: "demo", DEMO_ID: "the app cannot set this" } } }, publicOrigin: (host) => `https://${host}` }, { answering: ALL_PORTS() });
    const { demo } = await engine.launch("hello", "client-a");
    await scheduler.settle();
    expect([...runtime.containers.values()][0]!.spec!.env).toEqual({
      APP_MODE: "demo",
      DEMO_URL: `https://${demo.host}/`,
      DEMO_HOST: demo.host,
      DEMO_ID: demo.id,
      DEMO_KIND: "visitor",
      DEMO_EXPIRES_AT: new Date(demo.expiresAt).toISOString(),
      DEMO_FIRST_RUN: "1",
    });
    // Its next container (a replacement) is told it is not the first: the data it would seed is there already.
    await scheduler.runUntil(engine.settled());
    await engine.replace(demo.id);
    await scheduler.runUntil(engine.settled());
    expect([...runtime.containers.values()].at(-1)!.spec!.env.DEMO_FIRST_RUN).toBe("0");
  });

  it("renders an environment's Compose file with the demo's own values, and refuses what environments cannot do yet", async () => {
    const seen: Array<Record<string, string>> = [];
    const environment = {
      file: "compose.yaml",
      projectRoot: "/srv",
      render: async (variables: Record<string, string>) => {
        seen.push(variables);
        return { ok: true as const, environment: { services: [{ name: "web", image: "img", env: {}, listens: [8080], dependsOn: [], mounts: [], labels: {}, limits: {}, restart: "no" as const, aliases: [], capAdd: [], capDrop: [] }], volumes: [], routes: [{ service: "web", port: 8080 }] } };
      },
    };
    const { engine, runtime, answering, scheduler } = setup({ apps: { shop: { ...app, env: { MODE: "demo" }, environment } } });
    const { demo } = await engine.launch("shop", "client-a");
    await scheduler.settle();
    expect(seen).toEqual([{ MODE: "demo", DEMO_URL: `http://${demo.host}/`, DEMO_HOST: demo.host, DEMO_ID: demo.id, DEMO_KIND: "visitor", DEMO_EXPIRES_AT: new Date(demo.expiresAt).toISOString(), DEMO_FIRST_RUN: "1" }]);
    expect([...runtime.containers.values()][0]!.spec!.environment).toMatchObject({ projectRoot: "/srv", spec: { routes: [{ service: "web", port: 8080 }] } });
    answering.add(portOf(demo));
    await scheduler.runUntil(engine.settled());
    // Its file names the images: a replacement reads the file again, and another image is refused in words.
    await expect(engine.replace(demo.id, "other:1")).rejects.toMatchObject({ data: { code: "not-for-environments", id: demo.id } });
    await engine.replace(demo.id);
    expect(seen).toHaveLength(2);
    // An environment is asked for one service's lines (the memory runtime has one answer for all).
    await expect(engine.logs(demo.id, 10, "db")).resolves.toBeTypeOf("string");
  });

  it("fails the launch of an environment whose file cannot be read for this demo, with the file's words", async () => {
    const environment = { file: "compose.yaml", projectRoot: "/srv", render: async () => ({ ok: false as const, problems: ["compose.yaml: services.web.image: required variable TAG is missing a value"] }) };
    const { engine, scheduler } = setup({ apps: { shop: { ...app, environment } } });
    const { demo } = await engine.launch("shop", "client-a");
    await scheduler.runUntil(engine.settled());
    expect(engine.get(demo.id)).toBeUndefined();
    expect(engine.getEnded(demo.id)).toMatchObject({ status: "failed", reason: "its Compose file compose.yaml cannot run: compose.yaml: services.web.image: required variable TAG is missing a value" });
  });

  it("says on the demo how far the pull of a service's image has come, and nothing once it is done", async () => {
    const spec = (image: string) => ({ name: "db", image, env: {}, listens: [5432], dependsOn: [], mounts: [], labels: {}, limits: {}, restart: "no" as const, aliases: [], capAdd: [], capDrop: [] });
    const environment = { file: "compose.yaml", projectRoot: "/srv", render: async () => ({ ok: true as const, environment: { services: [{ ...spec("img"), name: "web" }, spec("postgres:15")], volumes: [], routes: [{ service: "web", port: 8080 }] } }) };
    const { engine, runtime, scheduler } = setup({ apps: { shop: { ...app, environment } } });
    let report: (progress: { image: string; doneBytes: number; totalBytes: number; layers: number }) => void = () => {};
    let finish: () => void = () => {};
    runtime.pullImage = (image, onProgress) => {
      report = onProgress ?? report;
      return new Promise<void>((resolve) => (finish = () => {
        runtime.images.add(image);
        resolve();
      }));
    };
    const { demo } = await engine.launch("shop", "client-a");
    await scheduler.settle();
    const progress = () => viewOf(engine.get(demo.id)!, "", 0).progress;
    expect(progress()).toBe("Downloading postgres:15 for db");
    report({ image: "postgres:15", doneBytes: 50 * 1024 ** 2, totalBytes: 150 * 1024 ** 2, layers: 3 });
    expect(progress()).toBe("Downloading postgres:15 for db: 50 MB of 150 MB");
    finish();
    await scheduler.settle();
    expect(progress()).toBeUndefined();
    expect(runtime.containers.size).toBe(1);
  });

  it("says a single-container demo has no services to name in its logs", async () => {
    const { engine, scheduler, answering } = setup();
    const { demo } = await engine.launch("hello", "client-a");
    answering.add(20000);
    await scheduler.runUntil(engine.settled());
    await expect(engine.logs(demo.id, 10, "db")).rejects.toMatchObject({ data: { code: "no-such-service", service: "db", services: [] } });
  });

  it("gives a visitor who already has a demo that demo back", async () => {
    const { engine, scheduler } = setup();
    const first = await engine.launch("hello", "client-a");
    const second = await engine.launch("hello", "client-a");
    expect(second.created).toBe(false);
    expect(second.demo.id).toBe(first.demo.id);
    expect((await engine.launch("hello", "client-b")).created).toBe(true);
  });

  it("puts visitors in a bounded line when all slots are taken, and refuses beyond it with Retry-After", async () => {
    // Their apps answer: 20 s on they are ready and hold their slots until they expire.
    const { engine, scheduler } = setup({}, { answering: ALL_PORTS() });
    for (const client of ["a", "b", "c"]) expect((await engine.launch("hello", client)).demo.status).toBe("starting");
    await scheduler.advance(20_000);
    const first = (await engine.launch("hello", "d")).demo;
    const second = (await engine.launch("hello", "e")).demo;
    expect([first.status, second.status]).toEqual(["queued", "queued"]);
    // The running demos expire 40 s from now: the first in line waits about that long.
    expect(engine.queueInfo(first.id)).toEqual({ position: 1, estimatedWaitSeconds: 40 });
    expect(engine.queueInfo(second.id)).toEqual({ position: 2, estimatedWaitSeconds: 40 });
    const error = await catchRefusal(() => engine.launch("hello", "f"));
    expect(error.data).toEqual({ code: "no-room", maxDemos: 3, lineLength: 2, retryAfterSeconds: 40 });
  });

  it("counts demos by memory too: a launch that would pass limits.memory waits in line, and starts when memory frees", async () => {
    // 64 MiB a demo, 150 MiB in all: room for two by memory, though maxDemos allows three.
    const { engine, scheduler } = setup({ limits: { maxDemos: 3, perClient: 1, queueLength: 2, launchesPerClient: 3, launchWindow: 600_000, memory: 150 << 20 } }, { answering: ALL_PORTS() });
    const first = (await engine.launch("hello", "a")).demo;
    expect((await engine.launch("hello", "b")).demo.status).toBe("starting");
    const third = (await engine.launch("hello", "c")).demo;
    expect(third.status).toBe("queued");
    await scheduler.settle();
    await engine.stop(first.id);
    await scheduler.settle();
    expect(engine.get(third.id)!.status).not.toBe("queued");
  });

  it("gives an environment's services' memory together, so a big environment waits where a small demo would not", async () => {
    const { engine } = setup({ apps: { hello: app, shop: { ...app, demoMemory: 200 << 20 } }, limits: { maxDemos: 3, perClient: 1, queueLength: 2, launchesPerClient: 3, launchWindow: 600_000, memory: 250 << 20 } }, { answering: ALL_PORTS() });
    expect((await engine.launch("hello", "a")).demo.status).toBe("starting");
    expect((await engine.launch("shop", "b")).demo.status).toBe("queued");
  });

  it("starts the first in line as soon as a slot frees, with a fresh time box", async () => {
    const { engine, scheduler, runtime } = setup();
    const running = [];
    for (const client of ["a", "b", "c"]) running.push((await engine.launch("hello", client)).demo);
    const waiting = (await engine.launch("hello", "d")).demo;
    await scheduler.advance(5_000);
    await engine.stop(running[0]!.id);
    expect(engine.get(waiting.id)!.status).toBe("starting");
    expect(engine.get(waiting.id)!.expiresAt).toBe(scheduler.now() + app.ttl);
    await scheduler.settle();
    expect([...runtime.containers.values()].map((container) => container.spec!.labels["demo-launcher.id"])).toContain(waiting.id);
  });

  it("drops a waiting visitor whose page stopped asking, and keeps one that asks", async () => {
    const allPorts = ALL_PORTS();
    const { engine, scheduler } = setup({ queueAbandonMs: 30_000 }, { answering: allPorts });
    for (const client of ["a", "b", "c"]) await engine.launch("hello", client);
    await scheduler.runUntil(engine.settled());
    const gone = (await engine.launch("hello", "d")).demo;
    const staying = (await engine.launch("hello", "e")).demo;
    await scheduler.advance(20_000);
    engine.touch(staying.id);
    await scheduler.advance(20_000);
    await engine.reapTick();
    expect(engine.get(gone.id)).toBeUndefined();
    expect(engine.getEnded(gone.id)).toMatchObject({ status: "stopped", reason: "you left the waiting line" });
    expect(engine.queueInfo(staying.id)!.position).toBe(1);
  });

  it("keeps the line across a restart", async () => {
    const { engine, scheduler } = setup({}, { initial: { ended: [], queued: [{ id: "wait0001", app: "hello", client: "z", queuedAt: 999_000 }] } });
    await engine.start();
    // Nothing runs, so the restored visitor starts at once.
    expect(engine.get("wait0001")!.status).toBe("starting");
  });

  it("limits how often one visitor may launch", async () => {
    const { engine, scheduler } = setup({ limits: { maxDemos: 10, perClient: 1, queueLength: 0, launchesPerClient: 2, launchWindow: 60_000 } });
    for (let i = 0; i < 2; i += 1) {
      const { demo } = await engine.launch("hello", "a");
      await engine.stop(demo.id);
      await scheduler.advance(10_000);
    }
    const error = await catchRefusal(() => engine.launch("hello", "a"));
    expect(error.data).toEqual({ code: "rate-limited", launches: 2, windowMs: 60_000, retryAfterSeconds: 40 });
    expect((await engine.launch("hello", "b")).created).toBe(true);
    await scheduler.advance(40_000);
    expect((await engine.launch("hello", "a")).created).toBe(true);
  });

  it("names the allowed apps when the app is unknown", async () => {
    const { engine, scheduler } = setup();
    expect((await catchRefusal(() => engine.launch("nope", "a"))).data).toEqual({ code: "unknown-app", asked: "nope", allowed: ["hello"] });
  });

  it("fails a launch with the runtime's reason when it cannot place the instance", async () => {
    const { engine, runtime, scheduler } = setup({ limits: { maxDemos: 20, perClient: 5, queueLength: 0, launchesPerClient: 20, launchWindow: 60_000 } });
    for (let port = 20000; port <= 20009; port += 1) runtime.busyPorts.add(port);
    const { demo } = await engine.launch("hello", "a");
    await scheduler.runUntil(engine.settled());
    expect(engine.getEnded(demo.id)).toMatchObject({ status: "failed", reason: "no free host port is left in the configured range" });
  });

  it("fails a demo whose app crashes, with the reason, and removes its container", async () => {
    const { engine, runtime, scheduler } = setup();
    const { demo } = await engine.launch("hello", "a");
    await scheduler.settle();
    const container = [...runtime.containers.values()][0]!;
    container.state = "exited";
    container.exitCode = 3;
    await scheduler.runUntil(engine.settled());
    expect(engine.get(demo.id)).toBeUndefined();
    expect(engine.getEnded(demo.id)).toMatchObject({ status: "failed" });
    expect(engine.getEnded(demo.id)!.reason).toContain("exited with code 3");
    expect(runtime.containers.size).toBe(0);
  });

  it("fails a demo that never answers within its readiness timeout", async () => {
    const { engine, runtime, scheduler } = setup();
    const { demo } = await engine.launch("hello", "a");
    await scheduler.runUntil(engine.settled());
    expect(engine.getEnded(demo.id)!.reason).toBe("the app did not answer on / within 5s");
    expect(runtime.containers.size).toBe(0);
  });

  it("reaps expired demos, drops their route first, and remembers them as expired", async () => {
    const { engine, runtime, scheduler, writes, answering, saved } = setup();
    answering.add(20000).add(20001).add(20002).add(20003).add(20004).add(20005).add(20006).add(20007).add(20008).add(20009);
    const { demo } = await engine.launch("hello", "a");
    await scheduler.runUntil(engine.settled());
    await scheduler.advanceTo(demo.expiresAt);
    await engine.reapTick();
    expect(engine.get(demo.id)).toBeUndefined();
    expect(engine.getEnded(demo.id)).toMatchObject({ status: "expired", reason: "its time box ended" });
    expect(writes.at(-1)).toEqual([]);
    expect(runtime.containers.size).toBe(0);
    await engine.close();
    expect(saved.at(-1)!.ended.map((entry) => entry.id)).toContain(demo.id);
  });

  it("at start adopts routed demos at once, keeps waiting for starting ones, and removes the rest", async () => {
    const now = 1_000_000;
    const { engine, runtime, writes, scheduler } = setup({}, { routedHosts: new Map([["ready001.demo.localhost", ["127.0.0.1:20001"]]]), answering: new Set([20002]) });
    addContainer(runtime, "r1", labelsOf("ready001", { expiresAt: now + 60_000 }), "running", 20001);
    addContainer(runtime, "s2", labelsOf("start002", { expiresAt: now + 60_000 }), "running", 20002);
    addContainer(runtime, "e3", labelsOf("expir003", { expiresAt: now - 1 }), "running", 20003);
    addContainer(runtime, "h4", labelsOf("halfm004", { expiresAt: now + 60_000 }), "created", 20004);
    addContainer(runtime, "x5", labelsOf("exite005", { expiresAt: now + 60_000 }), "exited", 20005);
    addContainer(runtime, "b6", { "demo-launcher.namespace": "t", "demo-launcher.id": "broken" }, "running", 20006);
    await engine.start();
    expect(engine.get("ready001")!.status).toBe("ready");
    // The start line's count: the demos found running (or starting) in Docker and taken over.
    expect(engine.adoptedAtStart).toBe(2);
    // The first render already holds the demo that was routed before the restart.
    expect(writes[0]!.map((route) => route.id)).toContain("ready001");
    await scheduler.runUntil(engine.settled());
    expect(engine.get("start002")!.status).toBe("ready");
    expect([...runtime.containers.keys()].sort()).toEqual(["r1", "s2"]);
    expect(engine.getEnded("expir003")!.status).toBe("expired");
    expect(engine.getEnded("halfm004")!.status).toBe("failed");
  });

  it("adopts containers made before instances existed (no instance label) as their demo's first instance", async () => {
    const now = 1_000_000;
    const old: Record<string, string> = { "demo-launcher.id": "older001", "demo-launcher.app": "hello", "demo-launcher.host": "older001.demo.localhost", "demo-launcher.port": "20001", "demo-launcher.created-at": new Date(now - 1000).toISOString(), "demo-launcher.expires-at": new Date(now + 60_000).toISOString(), "demo-launcher.namespace": "t", "demo-launcher.client": "v" };
    const { engine, runtime, scheduler } = setup({}, { routedHosts: new Map([["older001.demo.localhost", ["127.0.0.1:20001"]]]) });
    addContainer(runtime, "o1", old, "running", 20001);
    await engine.start();
    expect(engine.get("older001")).toMatchObject({ status: "ready", kind: "visitor", owner: "v", instances: [{ id: "older001-1", generation: 1, health: "healthy", endpoint: "127.0.0.1:20001" }] });
  });

  it("removes the container of a demo stopped while it was starting", async () => {
    const { engine, runtime, scheduler } = setup();
    const { demo } = await engine.launch("hello", "a");
    await scheduler.settle();
    expect(await engine.stop(demo.id)).toBe(true);
    await scheduler.runUntil(engine.settled());
    expect(runtime.containers.size).toBe(0);
    expect(engine.getEnded(demo.id)!.status).toBe("stopped");
  });

  it("keeps a warm pool routed, hands it out with no start and no render, and refills it", async () => {
    const allPorts = ALL_PORTS();
    const { engine, runtime, writes, saved, scheduler } = setup({ apps: { hello: { ...app, pool: 2 } } }, { answering: allPorts });
    await engine.start();
    await scheduler.runUntil(engine.settled());
    expect(engine.poolStatus()).toEqual({ hello: { ready: 2, starting: 0 } });
    expect(writes.at(-1)!.length).toBe(2);
    expect(engine.list()).toEqual([]);
    const containersBefore = runtime.containers.size;
    const writesBefore = writes.length;
    const { demo, created } = await engine.launch("hello", "visitor");
    expect(created).toBe(true);
    expect(demo.status).toBe("ready");
    // A lease change only: the same container, and the lease is on disk before the answer.
    expect(runtime.containers.size).toBe(containersBefore + 1); // the refill, started after the claim
    expect(writes.length).toBe(writesBefore);
    expect(saved.at(-1)!.leases).toEqual([{ id: demo.id, expiresAt: demo.expiresAt, client: "visitor" }]);
    expect(engine.list().map((entry) => entry.id)).toEqual([demo.id]);
    await scheduler.runUntil(engine.settled());
    expect(engine.poolStatus()).toEqual({ hello: { ready: 2, starting: 0 } });
  });

  it("after a restart, a claimed pool container keeps its owner and lease, an unclaimed one stays in the pool", async () => {
    const now = 1_000_000;
    const labels = (id: string) => labelsOf(id, { createdAt: now - 5000, expiresAt: now + 6 * 3_600_000, pool: true });
    const { engine, runtime, scheduler } = setup(
      { apps: { hello: { ...app, pool: 1 } } },
      { routedHosts: new Map([["claim001.demo.localhost", ["127.0.0.1:20001"]], ["spare002.demo.localhost", ["127.0.0.1:20002"]]]), initial: { ended: [], queued: [], leases: [{ id: "claim001", expiresAt: now + 30_000, client: "v" }] } },
    );
    addContainer(runtime, "c1", labels("claim001"), "running", 20001);
    addContainer(runtime, "c2", labels("spare002"), "running", 20002);
    await engine.start();
    expect(engine.get("claim001")).toMatchObject({ status: "ready", expiresAt: now + 30_000, owner: "v" });
    expect(engine.get("claim001")!.pooled).toBeUndefined();
    expect(engine.get("spare002")!.pooled).toBe(true);
    expect(engine.poolStatus()).toEqual({ hello: { ready: 1, starting: 0 } });
  });

  it("notices a ready demo whose container died and ends it", async () => {
    const { engine, runtime, answering, scheduler } = setup();
    answering.add(20000).add(20001).add(20002).add(20003).add(20004).add(20005).add(20006).add(20007).add(20008).add(20009);
    const { demo } = await engine.launch("hello", "a");
    await scheduler.runUntil(engine.settled());
    [...runtime.containers.values()][0]!.state = "exited";
    await engine.syncWithDocker();
    expect(engine.get(demo.id)).toBeUndefined();
    expect(engine.getEnded(demo.id)!.reason).toBe("the app stopped unexpectedly");
  });

  it("a launch while Docker is down waits for it, and the outage is reported once", async () => {
    const { engine, runtime, answering, logged, scheduler } = setup({}, { answering: ALL_PORTS() });
    await engine.start();
    runtime.down = true;
    const { demo } = await engine.launch("hello", "a");
    for (let i = 0; i < 5; i += 1) await engine.reapTick();
    await scheduler.settle();
    expect(engine.get(demo.id)!.status).toBe("starting");
    expect(engine.dockerStatus().state).toBe("unreachable");
    expect(logged.filter((line) => line.includes("Docker is not answering"))).toHaveLength(1);
    runtime.down = false;
    await scheduler.runUntil(engine.settled());
    expect(engine.get(demo.id)!.status).toBe("ready");
    await engine.reapTick();
    expect(engine.dockerStatus().state).toBe("ok");
    expect(logged.filter((line) => line.includes("Docker answers again"))).toHaveLength(1);
    void answering;
  });

  it("after Docker restarts, ready demos it stopped are started again; without an outage a stop is a failure", async () => {
    const { engine, runtime, scheduler } = setup({}, { answering: ALL_PORTS() });
    await engine.start();
    const first = (await engine.launch("hello", "a")).demo;
    const second = (await engine.launch("hello", "b")).demo;
    await scheduler.runUntil(engine.settled());
    // The daemon goes down (its event stream breaks), stops every container, comes back.
    runtime.lost!();
    runtime.down = true;
    await engine.reapTick();
    for (const container of runtime.containers.values()) container.state = "exited";
    runtime.down = false;
    await engine.reapTick();
    await scheduler.runUntil(engine.settled());
    expect(engine.get(first.id)!.status).toBe("ready");
    expect(engine.get(second.id)!.status).toBe("ready");
    expect([...runtime.containers.values()].every((container) => container.state === "running")).toBe(true);
  });

  it("a routes file that cannot be written holds the launch at 'routing' until it can, and is reported once", async () => {
    const { engine, disk, logged, writes, scheduler } = setup({}, { answering: ALL_PORTS() });
    await engine.start();
    disk.writable = false;
    const { demo } = await engine.launch("hello", "a");
    await scheduler.settle();
    for (let i = 0; i < 6; i += 1) await engine.reapTick();
    expect(engine.get(demo.id)).toMatchObject({ status: "starting", step: "routing" });
    expect(logged.filter((line) => line.includes("cannot write the routes file"))).toHaveLength(1);
    disk.writable = true;
    await scheduler.runUntil(engine.settled());
    expect(engine.get(demo.id)!.status).toBe("ready");
    expect(writes.at(-1)!.map((route) => route.id)).toEqual([demo.id]);
    expect(logged.filter((line) => line.includes("routes file written again"))).toHaveLength(1);
  });

  it("a state file that cannot be saved is reported once, retried, and its recovery reported", async () => {
    let full = true;
    const saved: EngineState[] = [];
    const { engine, logged, scheduler } = setup({ stateStore: { load: async () => ({ ended: [], queued: [] }), save: async (state) => {
      if (full) throw new Error("ENOSPC: no space left on device, write");
      saved.push(state);
    } } }, { answering: ALL_PORTS() });
    await engine.start();
    for (const client of ["a", "b", "c"]) await engine.launch("hello", client);
    await scheduler.runUntil(engine.settled());
    for (const demo of engine.list()) await engine.stop(demo.id);
    // Saves run behind the changes, on their own chain.
    await scheduler.settle();
    expect(logged.filter((line) => line.includes("saving the state file failed"))).toHaveLength(1);
    full = false;
    for (let i = 0; i < 5; i += 1) await engine.reapTick();
    await scheduler.settle();
    expect(saved.at(-1)!.ended).toHaveLength(3);
    expect(logged.filter((line) => line.includes("the state file is written again"))).toHaveLength(1);
  });

  it("a launch accepted but killed before Docker had it is started by the next run", async () => {
    const first = setup();
    await first.engine.start();
    // Docker never answers this run: the launch is accepted (the visitor has the URL), then the process dies.
    first.runtime.down = true;
    const { demo } = await first.engine.launch("hello", "a");
    const saved = first.saved.at(-1)!;
    expect(saved.starting!.map((entry) => entry.id)).toEqual([demo.id]);

    const second = setup({}, { initial: saved, answering: ALL_PORTS() });
    await second.engine.start();
    await second.scheduler.runUntil(second.engine.settled());
    expect(second.engine.get(demo.id)).toMatchObject({ status: "ready", owner: "a", createdAt: demo.createdAt, expiresAt: demo.expiresAt });
    expect([...second.runtime.containers.values()].map((container) => container.spec!.labels["demo-launcher.id"])).toEqual([demo.id]);
    await first.engine.close();
  });
});
