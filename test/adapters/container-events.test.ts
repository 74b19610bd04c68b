// Docker's event stream as the runtime follows it: a death and a removal of a namespace's container are told at once,
// another namespace's are not; and the stream's JSON is read whole however Docker cuts it into chunks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type Docker from "dockerode";
import { labelsFor } from "../../src/core/model.js";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { DockerRuntime } from "../../src/docker/runtime.js";
import { eventReader } from "../../src/docker/container-events.js";
import { freePort, removeNamespace, requireDocker } from "../support/stack.js";

const namespace = `events${Math.random().toString(36).slice(2, 8)}`;
const other = `${namespace}x`;

describe("the event stream of a namespace's containers (real Docker)", () => {
  let docker: Docker;
  let runtime: DockerRuntime;
  beforeAll(async () => {
    docker = await requireDocker();
    const port = await freePort();
    runtime = new DockerRuntime(docker, { network: "demo-launcher-contract", ports: { from: port, to: port + 1 } });
  });
  afterAll(async () => {
    await removeNamespace(docker, namespace);
    await removeNamespace(docker, other);
  });

  const spec = (demoId: string, space = namespace) => ({
    demoId,
    instanceId: `${demoId}-1`,
    namespace: space,
    image: SAMPLE_IMAGE,
    containerPort: 8080,
    labels: labelsFor({ demo: { id: demoId, kind: "visitor", app: "hello", host: `${demoId}.demo.localhost`, createdAt: 0, expiresAt: Date.now() + 600_000, namespace: space }, instance: { id: `${demoId}-1`, generation: 1, image: SAMPLE_IMAGE } }),
    env: {},
    memoryBytes: 64 << 20,
    cpus: 0.5,
    pids: 64,
  });

  it("tells a death and a removal of its containers, in that order, and nothing of another namespace's", async () => {
    const seen: Array<[string, string]> = [];
    let wake = () => {};
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const unwatch = runtime.watchContainers(namespace, {
      stopped: (containerId, how) => {
        seen.push([containerId, how]);
        wake();
      },
      lost: () => {},
      opened: () => opened(),
    });
    const until = (count: number) => new Promise<void>((resolve) => {
      wake = () => seen.length >= count && resolve();
      wake();
    });
    try {
      await isOpen;
      const theirs = await runtime.createAndStart(spec("evnt0002", other));
      const ours = await runtime.createAndStart(spec("evnt0001"));
      await docker.getContainer(theirs.containerId).kill();
      await docker.getContainer(ours.containerId).kill();
      await until(1);
      await runtime.remove(theirs.containerId);
      await runtime.remove(ours.containerId);
      await until(2);
      expect(seen).toEqual([[ours.containerId, "died"], [ours.containerId, "removed"]]);
    } finally {
      unwatch();
    }
  });
});

describe("reading the event stream", () => {
  it("reads events cut anywhere across chunks, several in one chunk, and skips a line that is not JSON", () => {
    const events: unknown[] = [];
    const read = eventReader((event) => events.push(event));
    read('{"Type":"container","Action":"die","Actor":{"ID":"a"}}\n{"Type":"cont');
    read('ainer","Action":"destroy","Actor":{"ID":"a"}}\nnot json\n');
    read('{"Type":"container","Action":"die","Actor":{"ID":"b"}}');
    expect(events).toEqual([{ Type: "container", Action: "die", Actor: { ID: "a" } }, { Type: "container", Action: "destroy", Actor: { ID: "a" } }]);
    read("\n");
    expect(events).toHaveLength(3);
  });
});
