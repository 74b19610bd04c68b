// Environments of several services on the real Docker engine: started in depends_on order on a network of their own, every object labelled, torn down by its labels only.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeTemplate } from "../../src/app/environments.js";
import { DEFAULT_CAPABILITIES } from "../../src/core/app-spec.js";
import { demoEnvironment } from "../../src/core/demos/demo-env.js";
import { labelsFor } from "../../src/core/model.js";
import type { InstanceSpec } from "../../src/core/runtime.js";
import { environmentNames } from "../../src/docker/environment.js";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { DockerRuntime } from "../../src/docker/runtime.js";
import { apiAtLeast } from "../../src/docker/start-interval.js";
import { TEST_COMPOSE, withoutStartProbe, writeComposeProject } from "../support/compose-project.js";
import { freePort, removeNamespace, requireDocker, waitFor } from "../support/stack.js";

const namespace = `env${Math.random().toString(36).slice(2, 8)}`;

describe("environments of several services on Docker", () => {
  let docker: Docker;
  let runtime: DockerRuntime;
  let project: string;

  beforeAll(async () => {
    docker = await requireDocker();
    const port = await freePort();
    runtime = new DockerRuntime(docker, { network: `demo-launcher-${namespace}`, ports: { from: port, to: port } });
    project = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-env-"));
    await writeComposeProject(project);
  });

  afterAll(async () => {
    if (docker && !process.env.KEEP_ENV) await removeNamespace(docker, namespace);
    if (project) await rm(project, { recursive: true, force: true });
  });

  async function specFor(demoId: string, compose = "compose.yaml", generation = 1): Promise<InstanceSpec> {
    const demo = { id: demoId, kind: "visitor" as const, app: "shop", host: `${demoId}.demo.localhost`, createdAt: Date.now(), expiresAt: Date.now() + 600_000 };
    const env = demoEnvironment(demo, `http://${demo.host}/`);
    const template = composeTemplate(project, compose, { capabilities: [...DEFAULT_CAPABILITIES], route: { service: "web", port: 8080 } });
    const rendered = await template.render(env);
    if (!rendered.ok) throw new Error(rendered.problems.join("\n"));
    return {
      demoId,
      instanceId: `${demoId}-${generation}`,
      namespace,
      image: SAMPLE_IMAGE,
      containerPort: 8080,
      labels: labelsFor({ demo: { ...demo, namespace }, instance: { id: `${demoId}-${generation}`, generation, image: SAMPLE_IMAGE } }),
      env,
      memoryBytes: 64 * 1024 ** 2,
      cpus: 0.5,
      pids: 64,
      hardening: { capabilities: [...DEFAULT_CAPABILITIES], disk: 1024 ** 3 },
      environment: { spec: rendered.environment, projectRoot: project, startTimeoutMs: 60_000 },
    };
  }

  const ours = (demoId: string) => ({ label: [`demo-launcher.namespace=${namespace}`, `demo-launcher.id=${demoId}`] });

  it("starts every service on the demo's own network, db healthy before web and the worker, and routes web only", async () => {
    // Health as Docker tells it (the start_interval the controller probes itself is the next test's).
    await writeFile(path.join(project, "docker-health.yaml"), withoutStartProbe(TEST_COMPOSE));
    const spec = await specFor("shop0001", "docker-health.yaml");
    // The order as Docker saw it, from its event stream (a container's health log keeps only its last 5 checks).
    const seen: Array<{ service: string; action: string }> = [];
    const stream = (await docker.getEvents({ filters: { type: ["container"], label: [`demo-launcher.namespace=${namespace}`, "demo-launcher.id=shop0001"] } })) as NodeJS.ReadableStream & { destroy(): void };
    let pending = "";
    stream.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines.filter(Boolean)) {
        const event = JSON.parse(line) as { Action: string; Actor: { Attributes: Record<string, string> } };
        seen.push({ service: event.Actor.Attributes["demo-launcher.service"] ?? "?", action: event.Action });
      }
    });
    const started = await runtime.createAndStart(spec);
    // Docker reports a start a moment after it answered the call: the stream is read until both starts are in it.
    await waitFor("Docker's start events of web and the worker", async () => ["web", "worker"].every((service) => seen.some((event) => event.service === service && event.action === "start"))).finally(() => stream.destroy());
    const answer = await fetch(`http://${started.endpoint}/cgi-bin/index.cgi`).then((response) => response.text());
    expect(answer).toContain("web says hello at http://shop0001.demo.localhost/");
    // The routed container reached db by its service name on the environment's network.
    expect(answer).toContain("db says ok");

    const containers = await docker.listContainers({ all: true, filters: ours("shop0001") });
    expect(containers.map((info) => info.Labels["demo-launcher.service"]).sort()).toEqual(["db", "migrate", "web", "worker"]);
    // migrate ran to completion before web started, in the volume db and the worker share, with the demo's id interpolated.
    const dbId = containers.find((info) => info.Labels["demo-launcher.service"] === "db")!.Id;
    expect((await runtime.exec(dbId, { argv: ["cat", "/data/migrated.txt"], timeoutMs: 10_000 })).output.trim()).toBe("migrated-for-shop0001");
    const workerId = containers.find((info) => info.Labels["demo-launcher.service"] === "worker")!.Id;
    expect((await runtime.exec(workerId, { argv: ["/bin/sh", "-c", "test -d /scratch && ls -A /scratch | wc -l"], timeoutMs: 10_000 })).output.trim()).toBe("0");
    for (const info of containers) expect(info.Labels).toMatchObject({ "demo-launcher.instance": "shop0001-1", "demo-launcher.namespace": namespace });
    // Only web is published, and only on loopback.
    expect(containers.flatMap((info) => info.Ports.filter((port) => port.PublicPort).map((port) => `${info.Labels["demo-launcher.service"]} ${port.IP}`))).toEqual(["web 127.0.0.1"]);
    // The core sees one instance: the routed container.
    expect((await runtime.list(namespace)).map((container) => container.containerId)).toEqual([started.containerId]);

    const inspect = async (service: string) => docker.getContainer(containers.find((info) => info.Labels["demo-launcher.service"] === service)!.Id).inspect();
    // Order: db turned healthy before web and the worker started; migrate ended before web started.
    const at = (service: string, action: string) => seen.findIndex((event) => event.service === service && event.action === action);
    expect(at("db", "health_status: healthy"), JSON.stringify(seen)).toBeGreaterThanOrEqual(0);
    for (const service of ["web", "worker"]) expect(at(service, "start"), JSON.stringify(seen)).toBeGreaterThan(at("db", "health_status: healthy"));
    expect(at("web", "start"), JSON.stringify(seen)).toBeGreaterThan(at("migrate", "die"));
    expect(at("migrate", "die")).toBeGreaterThan(-1);

    const names = environmentNames(namespace, "shop0001");
    expect((await docker.getNetwork(names.network).inspect()).Labels).toMatchObject({ "demo-launcher.id": "shop0001", "demo-launcher.namespace": namespace });
    expect((await docker.getVolume(names.volume("data")).inspect()).Labels).toMatchObject({ "demo-launcher.id": "shop0001", "demo-launcher.environment-object": "data" });
    // The file's own limits were capped by the app's and every service runs hardened.
    expect((await inspect("db")).HostConfig).toMatchObject({ Memory: 64 * 1024 ** 2, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges:true"] });
  });

  it("removes every container, the network and the volumes of a demo and nothing else, not even objects with its file's names", async () => {
    // Someone's own objects named as in the file: never ours to remove.
    await docker.createVolume({ Name: `data-${namespace}` });
    await docker.createNetwork({ Name: `default-${namespace}` });
    const [routed] = await runtime.list(namespace);
    await runtime.remove(routed!.containerId);
    expect(await docker.listContainers({ all: true, filters: ours("shop0001") })).toEqual([]);
    expect(await docker.listNetworks({ filters: ours("shop0001") })).toEqual([]);
    expect((await docker.listVolumes({ filters: ours("shop0001") })).Volumes ?? []).toEqual([]);
    expect((await docker.getVolume(`data-${namespace}`).inspect()).Name).toBe(`data-${namespace}`);
    expect((await docker.getNetwork(`default-${namespace}`).inspect()).Name).toBe(`default-${namespace}`);
    await docker.getVolume(`data-${namespace}`).remove();
    await docker.getNetwork(`default-${namespace}`).remove();
  });

  it("probes a dependency at its start_interval during its start period where Docker ignores it, and starts its dependants on the first pass", async () => {
    // Docker's own first check comes after an hour: only a probe at start_interval lets web start now.
    await writeFile(path.join(project, "slow-checks.yaml"), TEST_COMPOSE.replace("      interval: 2s\n", "      interval: 1h\n"));
    const honoured = apiAtLeast((await docker.version()).ApiVersion, [1, 44]);
    const started = await runtime.createAndStart(await specFor("shop0007", "slow-checks.yaml"));
    expect(await fetch(`http://${started.endpoint}/cgi-bin/index.cgi`).then((response) => response.text())).toContain("db says ok");
    const [db] = await docker.listContainers({ all: true, filters: { label: [`demo-launcher.namespace=${namespace}`, "demo-launcher.id=shop0007", "demo-launcher.service=db"] } });
    const health = (await docker.getContainer(db!.Id).inspect()).State.Health!;
    // Docker 25 and later ran the check itself (healthy); an older engine has not checked yet: the controller's probe passed.
    expect(health.Status).toBe(honoured ? "healthy" : "starting");
    if (!honoured) expect(health.Log ?? []).toEqual([]);
    // The demo's services (the console's list) say healthy all the same: the controller's word, where Docker's is late.
    expect((await runtime.services(started.containerId)).find((service) => service.service === "db")).toEqual({ service: "db", state: "running", health: "healthy", routed: false });
    await runtime.remove(started.containerId);
  });

  it("refuses to join a network of its name that is not the demo's, and leaves it alone", async () => {
    const names = environmentNames(namespace, "shop0002");
    await docker.createNetwork({ Name: names.network });
    try {
      await expect(runtime.createAndStart(await specFor("shop0002"))).rejects.toThrow(`a network named ${names.network} exists and is not this demo's`);
      expect((await docker.getNetwork(names.network).inspect()).Name).toBe(names.network);
    } finally {
      await docker.getNetwork(names.network).remove();
    }
  });

  it("fails a start whose dependency never turns healthy, naming it, and leaves nothing behind", async () => {
    await writeFile(path.join(project, "sick.yaml"), withoutStartProbe(TEST_COMPOSE).replace("http://127.0.0.1:8080/health.txt", "http://127.0.0.1:8080/missing.txt").replace("retries: 200", "retries: 2"));
    await expect(runtime.createAndStart(await specFor("shop0003", "sick.yaml"))).rejects.toThrow(/service db is unhealthy/);
    expect(await docker.listContainers({ all: true, filters: ours("shop0003") })).toEqual([]);
    expect(await docker.listNetworks({ filters: ours("shop0003") })).toEqual([]);
    expect((await docker.listVolumes({ filters: ours("shop0003") })).Volumes ?? []).toEqual([]);
  });

  it("removes at its first listing the network and volume a controller killed before the first container left", async () => {
    const names = environmentNames(namespace, "shop0005");
    const labels = { "demo-launcher.namespace": namespace, "demo-launcher.id": "shop0005" };
    await docker.createNetwork({ Name: names.network, Labels: { ...labels, "demo-launcher.environment-object": "network" } });
    await docker.createVolume({ Name: names.volume("data"), Labels: { ...labels, "demo-launcher.environment-object": "data" } });
    // A read-only look (a CLI command) leaves them; the controller's first listing removes them.
    await new DockerRuntime(docker, { network: `demo-launcher-${namespace}`, ports: { from: 1, to: 1 } }).list(namespace);
    expect(await docker.listNetworks({ filters: ours("shop0005") })).toHaveLength(1);
    await new DockerRuntime(docker, { network: `demo-launcher-${namespace}`, ports: { from: 1, to: 1 }, sweepLeftovers: true }).list(namespace);
    expect(await docker.listNetworks({ filters: ours("shop0005") })).toEqual([]);
    expect((await docker.listVolumes({ filters: ours("shop0005") })).Volumes ?? []).toEqual([]);
  });

  it("removes the members a start killed half-way left behind (no routed container), with their network and volumes", async () => {
    const spec = await specFor("shop0004");
    const started = await runtime.createAndStart(spec);
    // As if the controller died between creating the routed container and the others: the routed one is gone.
    await docker.getContainer(started.containerId).remove({ force: true });
    const fresh = new DockerRuntime(docker, { network: `demo-launcher-${namespace}`, ports: { from: 1, to: 1 } });
    expect((await fresh.list(namespace)).filter((container) => container.labels["demo-launcher.id"] === "shop0004")).toEqual([]);
    // The listing removed them before it answered.
    expect(await docker.listContainers({ all: true, filters: ours("shop0004") })).toEqual([]);
    expect((await docker.listVolumes({ filters: ours("shop0004") })).Volumes ?? []).toEqual([]);
    expect(await docker.listNetworks({ filters: ours("shop0004") })).toEqual([]);
  });

  it("a new instance of the demo keeps the services that did not change, stops a changed one with a volume before its new one starts, and gives it back when discarded", async () => {
    // One runtime per instance, each with a free port of its own (the suite's runtime has one port).
    const runtimeWithOnePortEach = async () => {
      const port = await freePort();
      return new DockerRuntime(docker, { network: `demo-launcher-${namespace}`, ports: { from: port, to: port } });
    };
    const services = async (instance?: string) => Object.fromEntries((await docker.listContainers({ all: true, filters: { label: [...ours("shop0006").label, ...(instance ? [`demo-launcher.instance=${instance}`] : [])] } })).map((info) => [`${info.Labels["demo-launcher.service"]}@${info.Labels["demo-launcher.instance"]}`, info.State]));
    const first = await (await runtimeWithOnePortEach()).createAndStart(await specFor("shop0006"));
    const second = await (await runtimeWithOnePortEach()).createAndStart(await specFor("shop0006", "compose.yaml", 2));
    // Nothing changed but the instance: web starts anew (its switch is the zero-downtime step), the rest is kept.
    expect(await services()).toEqual({ "web@shop0006-1": "running", "db@shop0006-1": "running", "migrate@shop0006-1": "exited", "worker@shop0006-1": "running", "web@shop0006-2": "running" });
    // Running is not yet listening (Docker's proxy resets a connection until web's server is up): asked until it
    // answers, as the controller's readiness check does.
    const answer = await waitFor("the second web to answer", () => fetch(`http://${second.endpoint}/cgi-bin/index.cgi`).then((response) => response.text(), () => undefined), 30_000, 100);
    expect(answer).toContain("db says ok");
    // The first instance goes (its replacement succeeded): only its web goes with it.
    await runtime.list(namespace);
    await runtime.remove(first.containerId);
    expect(await services()).toEqual({ "db@shop0006-1": "running", "migrate@shop0006-1": "exited", "worker@shop0006-1": "running", "web@shop0006-2": "running" });

    // The worker's command changes: it holds the data volume, so the old one stops before the new one starts; db stays.
    await writeFile(path.join(project, "worker-changed.yaml"), TEST_COMPOSE.replace("exec sleep 3600", "exec sleep 3601"));
    const thirdRuntime = await runtimeWithOnePortEach();
    const third = await thirdRuntime.createAndStart(await specFor("shop0006", "worker-changed.yaml", 3));
    expect(await services()).toEqual({ "db@shop0006-1": "running", "migrate@shop0006-1": "exited", "worker@shop0006-1": "exited", "web@shop0006-2": "running", "web@shop0006-3": "running", "worker@shop0006-3": "running" });
    // The third is discarded (its app never answered, say): its worker goes and the second's starts again.
    await thirdRuntime.remove(third.containerId);
    expect(await services()).toEqual({ "db@shop0006-1": "running", "migrate@shop0006-1": "exited", "worker@shop0006-1": "running", "web@shop0006-2": "running" });
    await runtime.remove(second.containerId);
    expect(await services()).toEqual({});
    expect((await docker.listVolumes({ filters: ours("shop0006") })).Volumes ?? []).toEqual([]);
  });
});
