// One contract for every ContainerRuntime: the in-memory one the unit tests use and the real Docker engine.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labelsFor } from "../../src/core/model.js";
import { MemoryRuntime } from "../../src/core/memory-runtime.js";
import { PlacementError, PortTakenError, type ContainerRuntime, type InstanceSpec } from "../../src/core/runtime.js";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { DockerRuntime } from "../../src/docker/runtime.js";
import { removeNamespace, requireDocker } from "../support/stack.js";

interface Subject {
  runtime: ContainerRuntime;
  ports: { from: number; to: number };
  /** Makes a port unavailable the way the runtime would meet it (a host process holding it). */
  occupy(port: number): Promise<() => Promise<void>>;
  /** Stops a container from outside, as `docker kill` or a daemon restart does. */
  stopFromOutside(containerId: string): Promise<void>;
  close(): Promise<void>;
}

const namespace = `contract${Math.random().toString(36).slice(2, 8)}`;

async function rangeOfFreePorts(size: number): Promise<{ from: number; to: number }> {
  for (;;) {
    const from = 40000 + Math.floor(Math.random() * 20000);
    const free = await Promise.all(Array.from({ length: size }, (_, i) => isFree(from + i)));
    if (free.every(Boolean)) return { from, to: from + size - 1 };
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

const subjects: Record<string, () => Promise<Subject>> = {
  memory: async () => {
    const ports = { from: 20000, to: 20002 };
    const runtime = new MemoryRuntime(ports, [SAMPLE_IMAGE]);
    return {
      runtime,
      ports,
      occupy: async (port) => {
        runtime.busyPorts.add(port);
        return async () => void runtime.busyPorts.delete(port);
      },
      stopFromOutside: async (containerId) => runtime.halt(containerId, 137),
      close: async () => {},
    };
  },
  docker: async () => {
    const docker = await requireDocker();
    const ports = await rangeOfFreePorts(3);
    const runtime = new DockerRuntime(docker, { network: "demo-launcher-contract", ports });
    return {
      runtime,
      ports,
      occupy: async (port) => {
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
        return () => new Promise<void>((resolve) => server.close(() => resolve()));
      },
      stopFromOutside: async (containerId) => void (await docker.getContainer(containerId).kill()),
      close: () => removeNamespace(docker, namespace),
    };
  },
};

function spec(demoId: string, generation = 1): InstanceSpec {
  const instanceId = `${demoId}-${generation}`;
  return {
    demoId,
    instanceId,
    namespace,
    image: SAMPLE_IMAGE,
    containerPort: 8080,
    labels: labelsFor({ demo: { id: demoId, kind: "visitor", app: "hello", host: `${demoId}.demo.localhost`, createdAt: 0, expiresAt: Date.now() + 600_000, namespace }, instance: { id: instanceId, generation, image: SAMPLE_IMAGE } }),
    env: {},
    memoryBytes: 64 << 20,
    cpus: 0.5,
    pids: 64,
  };
}

describe.each(Object.keys(subjects))("ContainerRuntime contract: %s", (name) => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await subjects[name]!();
  });
  afterAll(async () => {
    await subject?.close();
  });

  it("starts an instance and answers with an endpoint in its range, which the listing shows with the labels", async () => {
    const started = await subject.runtime.createAndStart(spec("contra01"));
    const port = Number(started.endpoint.split(":").at(-1));
    expect(started.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(port).toBeGreaterThanOrEqual(subject.ports.from);
    expect(port).toBeLessThanOrEqual(subject.ports.to);
    const listed = (await subject.runtime.list(namespace)).find((container) => container.containerId === started.containerId);
    expect(listed).toMatchObject({ state: "running", endpoint: started.endpoint });
    expect(listed!.labels).toMatchObject({ "demo-launcher.instance": "contra01-1", "demo-launcher.id": "contra01" });
    expect(await subject.runtime.list(`${namespace}x`)).toEqual([]);
    await subject.runtime.remove(started.containerId);
  });

  it("places two instances of one demo side by side, and chooses another port when one is taken", async () => {
    const hold = await subject.occupy(subject.ports.from);
    try {
      const first = await subject.runtime.createAndStart(spec("contra02", 1));
      const second = await subject.runtime.createAndStart(spec("contra02", 2));
      expect(new Set([first.endpoint, second.endpoint]).size).toBe(2);
      expect([first.endpoint, second.endpoint]).not.toContain(`127.0.0.1:${subject.ports.from}`);
      // The range is full now: placement fails with a reason, and leaves nothing behind.
      await expect(subject.runtime.createAndStart(spec("contra02", 3))).rejects.toBeInstanceOf(PlacementError);
      expect((await subject.runtime.list(namespace)).map((container) => container.labels["demo-launcher.instance"]).sort()).toEqual(["contra02-1", "contra02-2"]);
      await subject.runtime.remove(first.containerId);
      await subject.runtime.remove(second.containerId);
    } finally {
      await hold();
    }
  });

  it("prepares a container that binds no port until it starts; a port taken meanwhile fails its start and leaves nothing", async () => {
    const prepared = await subject.runtime.prepare!(spec("contra05"));
    const port = Number(prepared.endpoint.split(":").at(-1));
    expect((await subject.runtime.list(namespace)).find((container) => container.containerId === prepared.containerId)).toMatchObject({ state: "created", endpoint: prepared.endpoint });
    // Nothing listens or holds the port yet: someone else can bind it (and then the start must fail cleanly).
    const hold = await subject.occupy(port);
    await expect(subject.runtime.startPrepared!(prepared.containerId)).rejects.toBeInstanceOf(PortTakenError);
    expect(await subject.runtime.inspect(prepared.containerId)).toBeUndefined();
    await hold();
    // Another prepared container is not given a port a prepared one holds, and starts where it was placed.
    const first = await subject.runtime.prepare!(spec("contra06"));
    const second = await subject.runtime.prepare!(spec("contra07"));
    expect(first.endpoint).not.toBe(second.endpoint);
    await subject.runtime.startPrepared!(second.containerId);
    expect(await subject.runtime.inspect(second.containerId)).toMatchObject({ state: "running" });
    expect((await subject.runtime.list(namespace)).find((container) => container.containerId === second.containerId)!.endpoint).toBe(second.endpoint);
    await subject.runtime.remove(first.containerId);
    await subject.runtime.remove(second.containerId);
  });

  it("says when an image is missing, and a create with it fails", async () => {
    expect(await subject.runtime.imageExists(SAMPLE_IMAGE)).toBe(true);
    expect(await subject.runtime.imageExists("demo-launcher-test/absent:none")).toBe(false);
    await expect(subject.runtime.createAndStart({ ...spec("contra03"), image: "demo-launcher-test/absent:none" })).rejects.toThrow();
    expect(await subject.runtime.list(namespace)).toEqual([]);
  });

  it("starts a container stopped from outside again on the same endpoint; a removed one is gone, removing twice is fine", async () => {
    const started = await subject.runtime.createAndStart(spec("contra04"));
    await subject.stopFromOutside(started.containerId);
    expect(await subject.runtime.inspect(started.containerId)).toMatchObject({ state: "exited", exitCode: 137, oomKilled: false });
    await subject.runtime.restart(started.containerId);
    expect((await subject.runtime.inspect(started.containerId))!.state).toBe("running");
    expect((await subject.runtime.list(namespace))[0]!.endpoint).toBe(started.endpoint);
    await subject.runtime.remove(started.containerId);
    await subject.runtime.remove(started.containerId);
    expect(await subject.runtime.inspect(started.containerId)).toBeUndefined();
  });
});

