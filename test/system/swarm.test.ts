// Demos on a real 3-node Docker Swarm on this machine (three dockerd in network namespaces of their own, a private
// registry): placement over the nodes, nginx routing to them, a node's death, a controller moving to another manager.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startController } from "../../src/app/controller.js";
import { parseConfigText } from "../../src/config/load.js";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { silentLogger } from "../../src/logger.js";
import { nodeDockers, swarmNodes } from "../../src/swarm/nodes.js";
import { SwarmRuntime } from "../../src/swarm/runtime.js";
import { apiAtLeast } from "../../src/docker/start-interval.js";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";
import { startLoad } from "../support/load.js";
import { CountingScheduler } from "../support/scheduler.js";
import { makeWorkRepo } from "../support/git-repo.js";
import { execIn } from "../support/container-exec.js";
import { ensureExampleImages, NOTES_IMAGE } from "../support/example-images.js";
import { HOST_ADDRESS, LocalSwarm, REGISTRY } from "../support/swarm.js";
import { TEST_COMPOSE, writeComposeProject } from "../support/compose-project.js";
import { makeComposeRepo, webPage, type ComposeRepo } from "../support/compose-repo.js";
import { branchLabel } from "../../src/core/previews/preview-names.js";
import { CLI, GiveUp, requireDocker, startStack, waitFor, type Stack } from "../support/stack.js";

describe("demos on a 3-node swarm", () => {
  let swarm: LocalSwarm;
  let stack: Stack;
  let repoRoot: string | undefined;
  /** A Compose repository previewed on the swarm (beside the single-image one, not inside it). */
  let composeRoot: string | undefined;
  let composeRepo: ComposeRepo;
  let hostDocker: Docker;
  const demos: Array<{ id: string; host: string }> = [];
  /** What the controller started on the second manager said (it logs in this process). */
  const secondControllerLog: string[] = [];
  /** The node killed in the node-death test. */
  let victim: LocalSwarm["nodes"][number];
  const nodeOf = async (id: string) => {
    const view = JSON.parse((await stack.api("GET", `/api/demos/${id}`)).body) as { instances: Array<{ endpoint: string }> };
    return view.instances[0]!.endpoint.split(":")[0]!;
  };

  /** One of our services whose task runs on this node (started there for the purpose when none does). */
  const anyServiceOn = async (node: LocalSwarm["nodes"][number]): Promise<string> => {
    const containers = await node.docker.listContainers({ filters: { label: [`demo-launcher.namespace=${stack.namespace}`] } });
    const service = containers[0]?.Labels["com.docker.swarm.service.id"];
    if (!service) throw new Error(`no demo runs on ${node.address}`);
    return service;
  };

  beforeAll(async () => {
    hostDocker = await requireDocker();
    swarm = await LocalSwarm.start(3);
    // On the manager only: the controller pushes it to the registry, where the other nodes find it.
    await swarm.loadFromHost(hostDocker, SAMPLE_IMAGE);
    repoRoot = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-swarm-site-"));
    const repo = await makeWorkRepo(repoRoot);
    composeRoot = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-swarm-compose-"));
    composeRepo = await makeComposeRepo(path.join(composeRoot, "repo"));
    // The other nodes' APIs: a unix socket, and the last node's tcp:// with mutual TLS as a real cluster has it.
    const nodesYaml = swarm.nodes.slice(1).map((node) => (node.tls ? `    - { address: "${node.address}", docker: "${node.tls.url}", certs: "${node.tls.certs}" }` : `    - { address: "${node.address}", docker: "unix://${node.socket}" }`)).join("\n");
    // The controller as its own process on the first manager, so it can be killed with SIGKILL.
    // The test environment with db (and so its volume, and migrate and worker, which share it) on one node, web on another.
    // httpd as PID 1 ignores SIGTERM: with an init, a removed service stops at once instead of after its grace period.
    const shopCompose = TEST_COMPOSE.replace("  db:\n", "  db:\n    init: true\n    deploy: { placement: { constraints: [node.labels.envdb==yes] } }\n").replace("  web:\n", "  web:\n    init: true\n    deploy: { placement: { constraints: [node.labels.envdb!=yes] } }\n");
    // A replaced instance drains 2 s (10 s by default): long enough for nginx's reload, and two replacements here wait for it.
    stack = await startStack({ controller: "child", nginxYaml: "  drain: 2s", beforeStart: (dir) => writeComposeProject(path.join(dir, "shop"), shopCompose), docker: swarm.manager.docker, dockerHost: `unix://${swarm.manager.socket}`, extraYaml: `runtime: swarm\nswarm:\n  registry: "${REGISTRY}"\n  startTimeout: 60s\n  nodes:\n${nodesYaml}\nshared:\n  try-it: { app: hello, replicas: 2 }\npreviews:\n  site: { repo: ${JSON.stringify(repo.dir)}, port: 8080, placement: { constraints: [node.labels.previews==yes] }, readiness: { path: /, timeout: 30s } }\n  shoprev: { repo: ${JSON.stringify(composeRepo.dir)}, compose: compose.yaml, memory: 64m, readiness: { path: /cgi-bin/index.cgi, timeout: 3m } }`, limitsYaml: "limits: { maxDemos: 20, perClient: 100 }",
      // Readiness windows wide enough for a loaded swarm to move a task (no test here is about a window closing):
      // with 20 s, a CI run saw the parked demo below fail while Swarm placed it again after the test unparked it.
      appsYaml: `  hello: { image: ${SAMPLE_IMAGE}, port: 8080, ttl: 10m, memory: 64m, pids: 64, readiness: { path: /, timeout: 3m } }
  warm: { image: ${SAMPLE_IMAGE}, port: 8080, memory: 32m, pool: 2, readiness: { path: /, timeout: 3m } }
  pinned: { image: ${SAMPLE_IMAGE}, port: 8080, memory: 32m, placement: { constraints: [node.labels.size==big] }, readiness: { path: /, timeout: 3m } }
  shop: { compose: shop/compose.yaml, route: { service: web, port: 8080 }, memory: 64m, readiness: { path: /cgi-bin/index.cgi, timeout: 3m } }
  slowshop: { compose: shop/compose.yaml, route: { service: web, port: 8080 }, memory: 64m, env: { DB_START_DELAY: "3" }, readiness: { path: /cgi-bin/index.cgi, timeout: 3m } }
  ghost: { image: demo-launcher/not-built-anywhere:1, port: 8080, memory: 64m, readiness: { path: /, timeout: 20s } }` });
  }, 180_000);
  // A failure here is often the lab's (a node, raft, the registry), seen once in many runs: say what the cluster and
  // the controller looked like, since the lab and its logs are gone after the run.
  afterEach(async (context) => {
    if (context.task.result?.state !== "fail" || !swarm) return;
    console.error(`swarm at the failure of "${context.task.name}":\n${await swarm.report()}\n--- the controller's last output\n${stack?.childOutput.slice(-4000) ?? ""}${secondControllerLog.length ? `\n--- the second controller's log\n${secondControllerLog.slice(-60).join("\n")}` : ""}`);
  });
  afterAll(async () => {
    await stack?.close();
    await swarm?.stop();
    if (repoRoot) await rm(repoRoot, { recursive: true, force: true });
    if (composeRoot) await rm(composeRoot, { recursive: true, force: true });
  });

  it("refuses runtime: swarm on a daemon that is not a swarm manager, saying what to do", async () => {
    const config = parseConfigText(`runtime: swarm\nnamespace: notamanager\nstateDir: ${stack.dir}/other-state\nnginx: { configDir: ${stack.dir}/other-nginx }`, "test.yaml", stack.dir);
    await expect(startController(config, { logger: silentLogger, docker: hostDocker, portOverride: 0 })).rejects.toThrow(/runtime: swarm needs a swarm manager, and this Docker daemon is not one \(its swarm state: inactive\)/);
  });

  it("spreads launches over the nodes, pushes the image to the registry and serves every demo through nginx", async () => {
    for (let n = 0; n < 6; n += 1) {
      const answer = await stack.api("POST", "/api/demos", { app: "hello" });
      expect(answer.status).toBe(201);
      demos.push(JSON.parse(answer.body));
    }
    for (const demo of demos) {
      await waitFor(`${demo.id} to be ready`, async () => JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body).status === "ready", 60_000);
      const served = await stack.viaNginx(demo.host, "/");
      expect(served.status).toBe(200);
    }
    // Swarm balances all our tasks (these 6, the shared demo's 2 replicas, the warm pool's 2) over the nodes.
    const nodes = await swarmNodes(swarm.manager.docker, stack.namespace);
    const counts = nodes.map((node) => node.demos);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(6);
    expect(counts.every((count) => count >= 2)).toBe(true);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
    expect(new Set(await Promise.all(demos.map((demo) => nodeOf(demo.id)))).size).toBeGreaterThanOrEqual(2);
    const manifest = await fetch(`http://${REGISTRY}/v2/${SAMPLE_IMAGE.split(":")[0]}/manifests/latest`, { method: "HEAD", headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" } });
    expect(manifest.status).toBe(200);
    // Labels live on the service (Swarm's replicated store) and on its containers.
    const services = (await swarm.manager.docker.listServices({ filters: { label: [`demo-launcher.namespace=${stack.namespace}`] } })) as Array<{ Spec: { Labels: Record<string, string>; TaskTemplate: { ContainerSpec: { Labels: Record<string, string> } } } }>;
    expect(services).toHaveLength(6 + 2 + 2); // visitors, the shared demo's replicas, the warm pool
    for (const service of services) {
      expect(service.Spec.Labels["demo-launcher.id"]).toMatch(/^[a-z0-9-]+$/);
      expect(service.Spec.TaskTemplate.ContainerSpec.Labels).toEqual(service.Spec.Labels);
      // The same privileges as on one host: every capability dropped but a web app's, open files and core dumps limited.
      const containerSpec = service.Spec.TaskTemplate.ContainerSpec as unknown as { CapabilityDrop: string[]; CapabilityAdd: string[]; Ulimits: Array<{ Name: string; Hard: number }> };
      expect(containerSpec.CapabilityDrop).toEqual(["ALL"]);
      expect(containerSpec.CapabilityAdd).toContain("CAP_SETUID");
      expect(containerSpec.CapabilityAdd).not.toContain("CAP_NET_RAW");
      expect(containerSpec.Ulimits.map((limit) => `${limit.Name}=${limit.Hard}`)).toEqual(expect.arrayContaining(["nofile=4096", "core=0"]));
    }
    // ...and the kernel holds a running demo to them on whichever node it runs.
    const firstNode = await nodeOf(demos[0]!.id);
    const node = swarm.nodes.find((candidate) => candidate.address === firstNode)!;
    const [running] = await node.docker.listContainers({ filters: { label: [`demo-launcher.id=${demos[0]!.id}`] } });
    const exec = await node.docker.getContainer(running!.Id).exec({ Cmd: ["/bin/cat", "/proc/1/status"], AttachStdout: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const status = await new Promise<string>((resolve) => { let text = ""; stream.on("data", (chunk: Buffer) => (text += chunk.toString("latin1"))); stream.on("end", () => resolve(text)); });
    const bounding = BigInt(`0x${/CapBnd:\s+([0-9a-f]+)/.exec(status)![1]}`);
    expect((bounding >> 13n) & 1n).toBe(0n); // NET_RAW
    expect((bounding >> 7n) & 1n).toBe(1n); // SETUID
  }, 120_000);

  it("places an app's demos where its placement says, claims warm pool members, and replaces a demo under load", async () => {
    const second = swarm.nodes[1]!;
    await swarm.label(second, { size: "big" });
    for (let n = 0; n < 2; n += 1) {
      const pinned = JSON.parse((await stack.api("POST", "/api/demos", { app: "pinned" })).body) as { id: string; host: string };
      await waitFor(`${pinned.id} to be ready`, async () => JSON.parse((await stack.api("GET", `/api/demos/${pinned.id}`)).body).status === "ready", 60_000);
      expect(await nodeOf(pinned.id)).toBe(second.address);
      await stack.api("DELETE", `/api/demos/${pinned.id}`);
    }
    // The warm pool fills on the swarm too; a launch claims a member (no service create on the way).
    await waitFor("the warm pool to fill", async () => (JSON.parse((await stack.api("GET", "/api/status")).body).pool.warm?.ready ?? 0) >= 2, 60_000, 200);
    const started = Date.now();
    const warm = JSON.parse((await stack.api("POST", "/api/demos", { app: "warm" })).body) as { id: string; host: string; status: string };
    expect(warm.status).toBe("ready");
    expect((await stack.viaNginx(warm.host, "/")).status).toBe(200);
    console.log(`swarm: a warm launch was served after ${Date.now() - started} ms`);
    await stack.api("DELETE", `/api/demos/${warm.id}`);
    // Zero-downtime replacement: a new service, the route switched, the old one drained and removed.
    const target = demos[0]!;
    const load = startLoad(stack.nginxPort, target.host, { pauseMs: 20 });
    try {
      const replaced = await stack.api("POST", `/api/demos/${target.id}/replace`, {});
      expect(replaced.status).toBe(202);
      await waitFor("the replacement", async () => JSON.parse((await stack.api("GET", `/api/demos/${target.id}`)).body).replacement?.status === "succeeded", 60_000, 200);
      await load.more(20);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([]);
    // The old instance drains (nginx.drain), then its service goes.
    await waitFor("the old instance's service to go", async () => (JSON.parse((await stack.api("GET", `/api/demos/${target.id}`)).body).instances as unknown[]).length === 1, 30_000, 500);
  }, 120_000);

  it("runs a Compose app's services as Swarm services on an overlay network across nodes, keeps its database through a replacement and removes every object", async () => {
    const dbNode = swarm.nodes[2]!;
    await swarm.label(dbNode, { envdb: "yes" });
    const demo = JSON.parse((await stack.api("POST", "/api/demos", { app: "shop" })).body) as { id: string; host: string };
    await waitFor(`${demo.id} to be ready`, async () => {
      const view = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body) as { status: string; reason?: string };
      if (view.status === "failed") throw new GiveUp(`the launch failed: ${view.reason}`);
      return view.status === "ready";
    }, 120_000);
    // web (on another node) asks db by its service name: the overlay network carries it between nodes.
    const answer = await stack.viaNginx(demo.host, "/cgi-bin/index.cgi");
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("db says ok");
    expect(answer.body).toContain(`web says hello at http://${demo.host}`);
    const manager = swarm.manager.docker;
    const filters = { label: [`demo-launcher.namespace=${stack.namespace}`, `demo-launcher.id=${demo.id}`] };
    type Listed = { ID: string; CreatedAt: string; Spec: { Name: string; Labels: Record<string, string> } };
    const servicesOf = async () => (await manager.listServices({ filters })) as unknown as Listed[];
    const byService = async () => new Map((await servicesOf()).map((service) => [service.Spec.Labels["demo-launcher.service"]!, service]));
    const first = await byService();
    expect([...first.keys()].sort()).toEqual(["db", "migrate", "web", "worker"]);
    const nodes = (await manager.listNodes()) as Array<{ ID: string; Status: { Addr: string } }>;
    const addressOf = async (serviceId: string) => {
      const tasks = (await manager.listTasks({ filters: { service: [serviceId] } })) as Array<{ NodeID: string; Status: { State: string } }>;
      return { address: nodes.find((node) => node.ID === tasks[0]?.NodeID)?.Status.Addr, state: tasks[0]?.Status.State };
    };
    expect(await addressOf(first.get("db")!.ID)).toEqual({ address: dbNode.address, state: "running" });
    // migrate and worker hold db's volume: they run where it lives; migrate ran once to its end.
    expect(await addressOf(first.get("migrate")!.ID)).toEqual({ address: dbNode.address, state: "complete" });
    expect((await addressOf(first.get("worker")!.ID)).address).toBe(dbNode.address);
    expect((await addressOf(first.get("web")!.ID)).address).not.toBe(dbNode.address);
    // depends_on held: web was made once db was healthy (its task running: Swarm waits for the healthcheck) and migrate done.
    const [dbTask] = (await manager.listTasks({ filters: { service: [first.get("db")!.ID] } })) as Array<{ Status: { Timestamp: string } }>;
    const [migrateTask] = (await manager.listTasks({ filters: { service: [first.get("migrate")!.ID] } })) as Array<{ Status: { Timestamp: string } }>;
    expect(Date.parse(first.get("web")!.CreatedAt)).toBeGreaterThanOrEqual(Date.parse(dbTask!.Status.Timestamp));
    expect(Date.parse(first.get("web")!.CreatedAt)).toBeGreaterThanOrEqual(Date.parse(migrateTask!.Status.Timestamp));
    const volume = `demo-launcher-${stack.namespace}-${demo.id}-data`;
    expect(((await dbNode.docker.listVolumes({ filters })).Volumes ?? []).map((entry) => entry.Name)).toEqual([volume]);
    // Logs per service, and a command in db's container on its node (what a restore of a dump runs). As many lines as
    // the API gives: db logs every request (web's, Swarm's health checks), so its first line moves back over time.
    expect((await stack.api("GET", `/api/demos/${demo.id}/logs?lines=1000&service=db`)).body).toContain("guestbook listening on :8080");
    const [dbContainer] = await dbNode.docker.listContainers({ filters: { label: [...filters.label, "demo-launcher.service=db"] } });
    expect(await execIn(dbNode.docker, dbContainer!.Id, ["/bin/sh", "-c", "cat /data/migrated.txt; echo row > /data/row.txt"])).toContain(`migrated-for-${demo.id}`);
    // A replacement: web is new, db (unchanged) is kept as it runs, with its row.
    expect((await stack.api("POST", `/api/demos/${demo.id}/replace`, {})).status).toBe(202);
    await waitFor("the replacement to succeed", async () => {
      const view = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body) as { replacement?: { status: string; reason?: string } };
      if (view.replacement?.status === "failed") throw new GiveUp(`the replacement failed: ${view.replacement.reason}`);
      return view.replacement?.status === "succeeded";
    }, 120_000);
    await waitFor("the old web service to go", async () => (await servicesOf()).length === 4, 60_000, 500);
    const second = await byService();
    expect(second.get("web")!.ID).not.toBe(first.get("web")!.ID);
    expect(second.get("db")!.ID).toBe(first.get("db")!.ID);
    expect((await stack.viaNginx(demo.host, "/cgi-bin/index.cgi")).body).toContain("db says ok");
    expect(await execIn(dbNode.docker, dbContainer!.Id, ["/bin/cat", "/data/row.txt"])).toContain("row");
    // Every object of a demo, by its labels: services, the network and configs on the manager, volumes on db's node.
    const objectsOf = async (id: string) => {
      const of = { label: [`demo-launcher.namespace=${stack.namespace}`, `demo-launcher.id=${id}`] };
      return [
        ...((await manager.listServices({ filters: of })) as unknown as Listed[]).map((service) => service.Spec.Name),
        ...(await manager.listNetworks({ filters: of })).map((network) => network.Name),
        ...((await manager.listConfigs({ filters: of })) as Array<{ Spec: { Name: string } }>).map((config) => config.Spec.Name),
        ...((await dbNode.docker.listVolumes({ filters: of })).Volumes ?? []).map((entry) => `volume ${entry.Name}`),
      ];
    };
    // kill -9 of the controller: a ready environment is adopted with every service as it ran, and one killed
    // mid-start (db placed, web waiting for its health) is started again by the next controller (its launch was
    // accepted), ending ready with one service of each, nothing doubled or orphaned.
    const halfStarted = JSON.parse((await stack.api("POST", "/api/demos", { app: "slowshop" })).body) as { id: string; host: string };
    const halfServices = async () => ((await manager.listServices({ filters: { label: [`demo-launcher.id=${halfStarted.id}`] } })) as unknown as Listed[]).map((service) => service.Spec.Labels["demo-launcher.service"]).sort();
    await waitFor("the slow demo's db to be placed while web waits", async () => (await halfServices()).includes("db"), 60_000, 100);
    // What a start killed earlier could leave of a demo the state no longer knows: a member and a network.
    const leftover = { "demo-launcher.namespace": stack.namespace, "demo-launcher.id": "leftover1", "demo-launcher.instance": "leftover1-1" };
    await manager.createNetwork({ Name: `demo-launcher-${stack.namespace}-leftover1`, Driver: "overlay", Labels: { ...leftover, "demo-launcher.environment-object": "network" } });
    await manager.createService({ Name: `demo-launcher-${stack.namespace}-leftover1-1-db`, Labels: { ...leftover, "demo-launcher.role": "member", "demo-launcher.service": "db" }, TaskTemplate: { ContainerSpec: { Image: `${REGISTRY}/${SAMPLE_IMAGE}` } }, Mode: { Replicated: { Replicas: 1 } } } as never);
    stack.child!.kill("SIGKILL");
    await stack.child!.catch(() => {});
    await stack.startChild();
    await waitFor("the leftover member and network to be removed", async () => (await objectsOf("leftover1")).length === 0, 60_000, 200);
    expect(JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body).status).toBe("ready");
    expect((await stack.viaNginx(demo.host, "/cgi-bin/index.cgi")).body).toContain("db says ok");
    expect([...(await servicesOf()).map((service) => service.ID)].sort()).toEqual([...second.values()].map((service) => service.ID).sort());
    await waitFor(`${halfStarted.id} to be ready`, async () => {
      const view = JSON.parse((await stack.api("GET", `/api/demos/${halfStarted.id}`)).body) as { status: string; reason?: string };
      if (view.status === "failed") throw new GiveUp(`the resumed launch failed: ${view.reason}`);
      return view.status === "ready";
    }, 120_000);
    expect(await halfServices()).toEqual(["db", "migrate", "web", "worker"]);
    expect((await stack.viaNginx(halfStarted.host, "/cgi-bin/index.cgi")).body).toContain("db says ok");
    expect((await stack.api("DELETE", `/api/demos/${halfStarted.id}`)).status).toBeLessThan(300);
    // The end: every service, the network, the configs, and the volume on db's node, by their labels.
    expect((await stack.api("DELETE", `/api/demos/${demo.id}`)).status).toBeLessThan(300);
    await waitFor("every object of both demos to go", async () => (await objectsOf(demo.id)).length + (await objectsOf(halfStarted.id)).length === 0, 60_000, 500);
  }, 300_000);

  it("gives each replica of a shared Compose demo a network and volumes of its own on the swarm, removed with it alone", async () => {
    const runtime = new SwarmRuntime(swarm.manager.docker, { registry: REGISTRY, constraints: [], startTimeoutMs: 90_000, ports: stack.config.ports, nodeDockers: await nodeDockers(stack.config) });
    const namespace = "swshared";
    const health = { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health.txt"], intervalMs: 300, retries: 100 };
    const base = { env: {}, listens: [8080], labels: {}, limits: {}, restart: "no" as const, aliases: [], capAdd: [], capDrop: [], init: true };
    const environment = {
      spec: {
        services: [
          { ...base, name: "db", image: SAMPLE_IMAGE, healthcheck: health, dependsOn: [], mounts: [{ kind: "volume" as const, volume: "data", target: "/data", readOnly: false }] },
          { ...base, name: "web", image: SAMPLE_IMAGE, dependsOn: [{ service: "db", condition: "service_healthy" as const }], mounts: [] },
        ],
        volumes: ["data"],
        routes: [{ service: "web", port: 8080 }],
      },
      projectRoot: os.tmpdir(),
      startTimeoutMs: 90_000,
      isolated: true,
    };
    const replica = (instanceId: string) => runtime.createAndStart({ demoId: "tryshop", instanceId, namespace, image: SAMPLE_IMAGE, containerPort: 8080, env: {}, memoryBytes: 64 * 1024 ** 2, cpus: 0.5, pids: 64, environment,
      labels: { "demo-launcher.namespace": namespace, "demo-launcher.id": "tryshop", "demo-launcher.instance": instanceId, "demo-launcher.kind": "shared" } });
    const visitor = (instanceId: string, dbEnv: Record<string, string>) => runtime.createAndStart({ demoId: "heal", instanceId, namespace, image: SAMPLE_IMAGE, containerPort: 8080, env: {}, memoryBytes: 64 * 1024 ** 2, cpus: 0.5, pids: 64,
      environment: { ...environment, isolated: false, spec: { ...environment.spec, services: environment.spec.services.map((entry) => (entry.name === "db" ? { ...entry, env: dbEnv } : entry)) } },
      labels: { "demo-launcher.namespace": namespace, "demo-launcher.id": "heal", "demo-launcher.instance": instanceId, "demo-launcher.kind": "visitor" } });
    // Two replicas of a shared demo, and (for the part after) a visitor's demo: started together.
    const [first, second, before] = await Promise.all([replica("tryshop-1"), replica("tryshop-2"), visitor("heal-1", { VERSION: "1" })]);
    for (const started of [first, second]) expect((await fetch(`http://${started.endpoint}/`)).status).toBe(200);
    /** Services, networks and volumes (on every node) carrying the label. */
    const objects = async (label: string) => {
      const filters = { label: [`demo-launcher.namespace=${namespace}`, label.includes("=") ? label : `demo-launcher.instance=${label}`] };
      const volumes = await Promise.all(swarm.nodes.map(async (node) => ((await node.docker.listVolumes({ filters })).Volumes ?? []).map((volume) => volume.Name)));
      return { services: ((await swarm.manager.docker.listServices({ filters })) as Array<{ Spec: { Name: string } }>).length, networks: (await swarm.manager.docker.listNetworks({ filters })).map((network) => network.Name), volumes: volumes.flat() };
    };
    expect(await objects("tryshop-1")).toEqual({ services: 2, networks: [`demo-launcher-${namespace}-tryshop-1`], volumes: [`demo-launcher-${namespace}-tryshop-1-data`] });
    expect(await objects("tryshop-2")).toEqual({ services: 2, networks: [`demo-launcher-${namespace}-tryshop-2`], volumes: [`demo-launcher-${namespace}-tryshop-2-data`] });
    // A row in one replica's database is not in the other's.
    expect((await runtime.exec(first.containerId, { service: "db", argv: ["/bin/sh", "-c", "echo one > /data/row.txt"], timeoutMs: 10_000 })).exitCode).toBe(0);
    expect((await runtime.exec(second.containerId, { service: "db", argv: ["/bin/cat", "/data/row.txt"], timeoutMs: 10_000 })).exitCode).not.toBe(0);
    expect((await runtime.services(first.containerId)).map((service) => `${service.service}:${service.state}${service.health ? `:${service.health}` : ""}`)).toEqual(["db:running:healthy", "web:running"]);
    await runtime.remove(first.containerId);
    expect(await objects("tryshop-1")).toEqual({ services: 0, networks: [], volumes: [] });
    expect((await fetch(`http://${second.endpoint}/`)).status).toBe(200);
    const secondGone = runtime.remove(second.containerId);

    // A replacement whose database changed stops the old one first; discarded (here by a controller that did not
    // start it, as after a kill -9), the old instance gets its database back.
    const dbOf = async () => ((await swarm.manager.docker.listServices({ filters: { label: ["demo-launcher.id=heal", "demo-launcher.service=db"] } })) as Array<{ ID: string; Spec: { Name: string; Mode: { Replicated: { Replicas: number } } } }>).map((service) => `${service.Spec.Name}:${service.Spec.Mode.Replicated.Replicas}`).sort();
    const after = await visitor("heal-2", { VERSION: "2" });
    expect(await dbOf()).toEqual([`demo-launcher-${namespace}-heal-1-db:0`, `demo-launcher-${namespace}-heal-2-db:1`]);
    const next = new SwarmRuntime(swarm.manager.docker, { registry: REGISTRY, constraints: [], startTimeoutMs: 90_000, ports: stack.config.ports, nodeDockers: await nodeDockers(stack.config) });
    await next.list(namespace);
    await next.remove(after.containerId);
    expect(await dbOf()).toEqual([`demo-launcher-${namespace}-heal-1-db:1`]);
    await waitFor("the first instance's db to run again", async () => (await next.services(before.containerId)).every((service) => service.state === "running"), 60_000, 200);
    await Promise.all([next.remove(before.containerId), secondGone]);
    expect(await objects("tryshop-2")).toEqual({ services: 0, networks: [], volumes: [] });
    expect(await objects("demo-launcher.id=heal")).toEqual({ services: 0, networks: [], volumes: [] });
  }, 240_000);

  it("starts a dependant on the controller's probe at start_interval where the nodes ignore it, while Swarm's own first check is an hour away", async () => {
    const runtime = new SwarmRuntime(swarm.manager.docker, { registry: REGISTRY, constraints: [], startTimeoutMs: 90_000, ports: stack.config.ports, nodeDockers: await nodeDockers(stack.config) });
    const namespace = "swprobe";
    const health = { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health.txt"], intervalMs: 3_600_000, startPeriodMs: 60_000, startIntervalMs: 300, retries: 3 };
    const base = { env: {}, listens: [8080], labels: {}, limits: {}, restart: "no" as const, aliases: [], capAdd: [], capDrop: [], init: true, mounts: [] };
    const environment = {
      spec: {
        services: [
          { ...base, name: "db", image: SAMPLE_IMAGE, healthcheck: health, dependsOn: [] },
          { ...base, name: "web", image: SAMPLE_IMAGE, dependsOn: [{ service: "db", condition: "service_healthy" as const }] },
        ],
        volumes: [],
        routes: [{ service: "web", port: 8080 }],
      },
      projectRoot: os.tmpdir(),
      startTimeoutMs: 90_000,
    };
    const honoured = apiAtLeast((await swarm.manager.docker.version()).ApiVersion, [1, 44]);
    const started = await runtime.createAndStart({ demoId: "probed", instanceId: "probed-1", namespace, image: SAMPLE_IMAGE, containerPort: 8080, env: {}, memoryBytes: 64 * 1024 ** 2, cpus: 0.5, pids: 64, environment,
      labels: { "demo-launcher.namespace": namespace, "demo-launcher.id": "probed", "demo-launcher.instance": "probed-1", "demo-launcher.kind": "visitor" } });
    try {
      expect((await fetch(`http://${started.endpoint}/`)).status).toBe(200);
      // Swarm calls db's task running only once its own check passed: on an engine that ignores start_interval that is
      // an hour away, so web runs on the controller's probe alone.
      const [db] = (await swarm.manager.docker.listServices({ filters: { label: [`demo-launcher.namespace=${namespace}`, "demo-launcher.service=db"] } })) as Array<{ ID: string }>;
      const [task] = (await swarm.manager.docker.listTasks({ filters: { service: [db!.ID], "desired-state": ["running"] } })) as Array<{ Status: { State: string } }>;
      expect(task!.Status.State).toBe(honoured ? "running" : "starting");
      // Listed as one host lists it: running, and healthy by the controller's probe while Swarm's word is an hour away.
      expect((await runtime.services(started.containerId)).find((service) => service.service === "db")).toEqual({ service: "db", state: "running", health: "healthy", routed: false });
    } finally {
      await runtime.remove(started.containerId);
    }
  }, 120_000);

  it("builds a Compose repository's preview on the manager and runs its services on the swarm; a push rebuilds web only and db keeps its rows", async () => {
    const label = branchLabel("shoprev", "main");
    const page = async () => (await stack.viaNginx(`${label}.demo.localhost`, "/cgi-bin/index.cgi")).body.trim();
    const build = async () => {
      const { id } = JSON.parse((await stack.api("POST", "/api/builds", { source: "shoprev", branch: "main" })).body) as { id: string };
      return waitFor(`build ${id}`, async () => {
        const view = JSON.parse((await stack.api("GET", `/api/builds/${id}`)).body) as { state: string; reason?: string; commit?: string };
        if (view.state === "failed") throw new GiveUp(`the build failed: ${view.reason}\n${(await stack.api("GET", `/api/builds/${id}/log`)).body.slice(-3000)}`);
        return view.state === "ready" ? view : undefined;
      }, 240_000, 200);
    };
    const dbService = async () => ((await swarm.manager.docker.listServices({ filters: { label: [`demo-launcher.id=${label}`, "demo-launcher.service=db"] } })) as Array<{ ID: string }>).map((service) => service.ID);
    const first = await build();
    expect(await page()).toBe(`web one at ${first.commit}\nrows:`);
    expect((await stack.viaNginx(`${label}.demo.localhost`, "/cgi-bin/add.cgi?alpha")).body.trim()).toBe("added");
    const db = await dbService();
    expect(db).toHaveLength(1);
    await composeRepo.write("web/cgi-bin/index.cgi", webPage("two"), 0o755);
    await composeRepo.commit("web two");
    const second = await build();
    await waitFor("web two to be served", async () => (await page()).startsWith("web two"), 60_000);
    expect(await page()).toBe(`web two at ${second.commit}\nrows: alpha`);
    expect(await dbService()).toEqual(db);
    expect((await stack.api("DELETE", `/api/previews/${label}`)).status).toBe(200);
    const filters = { label: [`demo-launcher.id=${label}`] };
    const left = async () => {
      const volumes = await Promise.all(swarm.nodes.map(async (node) => ((await node.docker.listVolumes({ filters })).Volumes ?? []).map((volume) => `volume ${volume.Name} on ${node.name}`)));
      return [...((await swarm.manager.docker.listServices({ filters })) as Array<{ Spec: { Name: string } }>).map((service) => service.Spec.Name), ...(await swarm.manager.docker.listNetworks({ filters })).map((network) => network.Name), ...volumes.flat()];
    };
    await waitFor("nothing of the preview to be left", async () => (await left()).length === 0, 60_000, 500).catch(async (error: Error) => {
      throw new Error(`${error.message}; left: ${(await left()).join(", ")}`);
    });
  }, 300_000);

  it("shows the nodes with their demos and free capacity in doctor", async () => {
    const doctor = await execa("node", [CLI, "--config", stack.configFile, "doctor"], { reject: false, all: true, env: { DOCKER_HOST: `unix://${swarm.manager.socket}` } });
    expect(doctor.all).toMatch(/ok +swarm +this Docker daemon is a swarm manager/);
    expect(doctor.all).toMatch(new RegExp(`ok +registry +${REGISTRY.replace(/\./g, "\\.")} answers`));
    const nodeLines = doctor.all.split("\n").filter((line) => /^ok +node /.test(line));
    expect(nodeLines).toHaveLength(3);
    for (const node of swarm.nodes) expect(nodeLines.some((line) => line.includes(`${node.address} manager, ready, active:`))).toBe(true);
    const counted = nodeLines.reduce((sum, line) => sum + Number(/: (\d+) demo\(s\)/.exec(line)![1]), 0);
    const services = await swarm.manager.docker.listServices({ filters: { label: [`demo-launcher.namespace=${stack.namespace}`] } });
    expect(counted).toBe(services.length);
    expect(doctor.all).toMatch(/free [\d.]+ CPUs and [\d.]+ GiB/);
    // The firewall of each node cannot be seen through Docker: shown as not checked, with the command and the nodes.
    const portsLine = doctor.all.split("\n").find((line) => line.startsWith("??    demo ports"))!;
    expect(portsLine).toContain(`run scripts/swarm-firewall.sh --check <nginx address> ${stack.config.ports.from}:${stack.config.ports.to} on each node (`);
    for (const node of swarm.nodes) expect(portsLine).toContain(node.address);
    // render lists the demos as the swarm runs them (services on the nodes' addresses), as the controller routes them.
    const rendered = await execa("node", [CLI, "--config", stack.configFile, "render"], { reject: false, all: true, env: { DOCKER_HOST: `unix://${swarm.manager.socket}` } });
    expect(rendered.exitCode, rendered.all).toBe(0);
    const shared = JSON.parse((await stack.api("GET", "/api/shared")).body) as { shared: Array<{ name: string; instances: Array<{ endpoint?: string }> }> };
    for (const instance of shared.shared.find((entry) => entry.name === "try-it")!.instances) expect(rendered.stdout).toContain(`${instance.endpoint};`);
  });

  it("keeps demos reachable from nginx's address only, with the firewall script's rules on every node", async () => {
    const firewall = path.join(PACKAGE_ROOT, "scripts/swarm-firewall.sh");
    const range = `${stack.config.ports.from}:${stack.config.ports.to}`;
    const onNode = (node: (typeof swarm.nodes)[number], command: string[]) => execa("nsenter", [`--net=/run/netns/${node.netns}`, ...command], { reject: false, all: true });
    const view = JSON.parse((await stack.api("GET", `/api/demos/${demos[0]!.id}`)).body) as { instances: Array<{ endpoint: string }> };
    const endpoint = view.instances[0]!.endpoint;
    const [address, port] = endpoint.split(":");
    expect(Number(port)).toBeGreaterThanOrEqual(stack.config.ports.from);
    expect(Number(port)).toBeLessThanOrEqual(stack.config.ports.to);
    const other = swarm.nodes.find((node) => node.address !== address)!;
    // Node's own fetch as the client (Debian's static busybox wget crashes here).
    const wget = [process.execPath, "-e", "fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(2))", `http://${endpoint}/`];
    // Without the rules, any machine that reaches the node reaches the demo.
    const before = await onNode(other, wget);
    expect(before.exitCode, before.message).toBe(0);
    expect((await onNode(swarm.nodes[1]!, ["bash", firewall, "--check", HOST_ADDRESS, range])).exitCode).toBe(1);
    for (const node of swarm.nodes) expect((await onNode(node, ["bash", firewall, HOST_ADDRESS, range])).exitCode).toBe(0);
    for (const node of swarm.nodes) expect((await onNode(node, ["bash", firewall, HOST_ADDRESS, range])).exitCode).toBe(0); // again: idempotent
    for (const node of swarm.nodes) expect((await onNode(node, ["bash", firewall, "--check", HOST_ADDRESS, range])).all).toContain(`ports ${range} answer only ${HOST_ADDRESS}`);
    // With them, another node (any machine but nginx's) is dropped; nginx's host still gets the app.
    expect((await onNode(other, wget)).exitCode).toBe(2);
    expect((await fetch(`http://${endpoint}/`)).status).toBe(200);
    expect((await stack.viaNginx(demos[0]!.host, "/")).status).toBe(200);
  });

  it("runs a command inside a demo's container on any node (what a rewind's restore needs), through that node's API", async () => {
    const withNodes = new SwarmRuntime(swarm.manager.docker, { constraints: [], startTimeoutMs: 60_000, ports: stack.config.ports, nodeDockers: await nodeDockers(stack.config) });
    const managerOnly = new SwarmRuntime(swarm.manager.docker, { constraints: [], startTimeoutMs: 60_000, ports: stack.config.ports });
    const seen = new Set<string>();
    for (const demo of demos) {
      const [service] = (await swarm.manager.docker.listServices({ filters: { label: [`demo-launcher.id=${demo.id}`] } })) as Array<{ ID: string }>;
      const result = await withNodes.exec(service!.ID, { argv: ["/bin/sh", "-c", `echo inside-${demo.id}`], timeoutMs: 10_000 });
      expect(result).toMatchObject({ exitCode: 0 });
      expect(result.output.trim()).toBe(`inside-${demo.id}`);
      const node = await nodeOf(demo.id);
      seen.add(node);
      // Without the other nodes' APIs, only the manager's own containers can be reached, and the refusal says why.
      if (node === swarm.manager.address) expect((await managerOnly.exec(service!.ID, { argv: ["/bin/true"], timeoutMs: 10_000 })).exitCode).toBe(0);
      else await expect(managerOnly.exec(service!.ID, { argv: ["/bin/true"], timeoutMs: 10_000 })).rejects.toThrow(`it runs on node ${node}, whose Docker API is not configured (add it to swarm.nodes)`);
    }
    // Where the demos are depends on Swarm (a replacement above may have moved one): at least two nodes, one of them not the manager.
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect([...seen].some((address) => address !== swarm.manager.address)).toBe(true);
    // The last node's API is tcp:// with mutual TLS: the controller's client certificate gets in, a client without one does not.
    const tlsNode = swarm.nodes.at(-1)!;
    expect((await withNodes.exec(await anyServiceOn(tlsNode), { argv: ["/bin/sh", "-c", "echo over-tls"], timeoutMs: 10_000 })).output.trim()).toBe("over-tls");
    const ca = await readFile(`${tlsNode.tls!.certs}/ca.pem`);
    await expect(new Docker({ host: tlsNode.address, port: 2376, protocol: "https", ca }).ping()).rejects.toThrow(/certificate|handshake|socket hang up|ECONNRESET|alert/i);
  });

  it("rewinds a PostgreSQL demo on another node than the manager, through that node's API", async () => {
    await ensureExampleImages();
    await swarm.loadFromHost(hostDocker, NOTES_IMAGE);
    const big = swarm.nodes[1]!; // labelled size=big above
    const db = await startStack({
      docker: swarm.manager.docker,
      limitsYaml: "limits: { maxDemos: 2, perClient: 5 }",
      appsYaml: `  notes:\n    image: ${NOTES_IMAGE}\n    port: 8080\n    memory: 256m\n    pids: 256\n    placement: { constraints: [node.labels.size==big] }\n    readiness: { path: /notes.json, timeout: 120s }\n    state:\n      default: fixtures\n      sources:\n        fixtures: { driver: postgres, file: /opt/demo/fixtures.sql, database: notes, owner: notes }\n        prepared: { kind: snapshot }`,
      extraYaml: `runtime: swarm\nswarm:\n  registry: "${REGISTRY}"\n  startTimeout: 180s\n  nodes:\n    - { address: "${big.address}", docker: "unix://${big.socket}" }`,
    });
    try {
      const demo = JSON.parse((await db.api("POST", "/api/demos", { app: "notes" })).body) as { id: string; host: string };
      await waitFor(`${demo.id} to be ready`, async () => {
        const view = JSON.parse((await db.api("GET", `/api/demos/${demo.id}`)).body) as { status: string; reason?: string };
        if (view.status === "failed") throw new Error(view.reason);
        return view.status === "ready";
      }, 240_000, 500);
      const view = JSON.parse((await db.api("GET", `/api/demos/${demo.id}`)).body) as { instances: Array<{ endpoint: string }> };
      expect(view.instances[0]!.endpoint.startsWith(`${big.address}:`)).toBe(true);
      const fresh = (await db.viaNginx(demo.host, "/notes.json")).body;
      // Change a row inside the container, on its node, as a visitor's use would.
      const [container] = await big.docker.listContainers({ filters: { label: [`demo-launcher.id=${demo.id}`] } });
      await execIn(big.docker, container!.Id, ["psql", "-X", "-q", "-U", "notes", "-d", "notes", "-c", "UPDATE notes SET text = 'changed on the swarm' WHERE id = 1"], "postgres");
      expect((await db.viaNginx(demo.host, "/notes.json")).body).toContain("changed on the swarm");
      const job = JSON.parse((await db.api("POST", `/api/demos/${demo.id}/rewind`, {})).body) as { id: string };
      const done = await waitFor(`rewind ${job.id}`, async () => {
        const state = JSON.parse((await db.api("GET", `/api/jobs/${job.id}`)).body) as { status: string; reason?: string };
        return state.status === "done" || state.status === "failed" ? state : undefined;
      }, 120_000, 200);
      expect(done).toMatchObject({ status: "done" });
      expect((await db.viaNginx(demo.host, "/notes.json")).body).toBe(fresh);

      // A snapshot on that node: saved through its API and pushed from there, so any node can start a demo from it.
      const note = (text: string) => db.viaNginx(demo.host, "/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `text=${encodeURIComponent(text)}` });
      const follow = (job: { id: string }) => waitFor(`job ${job.id}`, async () => {
        const state = JSON.parse((await db.api("GET", `/api/jobs/${job.id}`)).body) as { status: string; reason?: string };
        return state.status === "done" || state.status === "failed" ? state : undefined;
      }, 180_000, 200);
      await note("saved on the swarm");
      const saved = await follow(JSON.parse((await db.api("POST", `/api/demos/${demo.id}/snapshot`, { source: "prepared" })).body) as { id: string });
      expect(saved, JSON.stringify(saved)).toMatchObject({ status: "done" });
      const snapshot = `demo-launcher-snapshot/${db.namespace}-notes:prepared`;
      await expect(swarm.manager.docker.getImage(snapshot).inspect()).rejects.toThrow(/no such image/i); // saved on its node, not the manager
      // In the registry, so every node can pull it (a node's pull from there is what the launch above did): asked of the
      // registry itself, not by moving its 860 MB to a third node.
      const [repository, tag] = [snapshot.slice(0, snapshot.lastIndexOf(":")), snapshot.slice(snapshot.lastIndexOf(":") + 1)];
      const pushed = await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${tag}`, { method: "HEAD", headers: { accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json" } });
      expect(pushed.status).toBe(200);
      await note("written after the snapshot");
      const back = await follow(JSON.parse((await db.api("POST", `/api/demos/${demo.id}/rewind`, { source: "prepared" })).body) as { id: string });
      expect(back, JSON.stringify(back)).toMatchObject({ status: "done" });
      const texts = (JSON.parse((await db.viaNginx(demo.host, "/notes.json")).body) as Array<{ text: string }>).map((row) => row.text);
      expect(texts).toContain("saved on the swarm");
      expect(texts).not.toContain("written after the snapshot");
      expect(JSON.parse((await db.api("GET", `/api/demos/${demo.id}`)).body)).toMatchObject({ status: "ready", replacement: { status: "succeeded", image: snapshot } });
    } finally {
      await db.close();
    }
  }, 420_000);

  it("fails a demo whose image is neither on the manager nor in the registry, with the reason, without hanging", async () => {
    const started = Date.now();
    const answer = await stack.api("POST", "/api/demos", { app: "ghost" });
    const { id } = JSON.parse(answer.body) as { id: string };
    const failed = await waitFor(`${id} to fail`, async () => {
      const view = JSON.parse((await stack.api("GET", `/api/demos/${id}`)).body) as { status: string; reason?: string };
      return view.status === "failed" ? view : undefined;
    }, 15_000, 100);
    expect(failed.reason).toContain(`the image demo-launcher/not-built-anywhere:1 is neither on the swarm's manager nor in its registry ${REGISTRY}`);
    console.log(`swarm: a missing image failed its launch in ${Date.now() - started} ms: ${failed.reason}`);
  });

  it("keeps the waiting line and expiry, and serves a preview built from git, on the swarm", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-swarm-preview-"));
    const repo = await makeWorkRepo(path.join(root, "repo"));
    const source = `s${Math.random().toString(36).slice(2, 8)}`;
    const small = await startStack({
      docker: swarm.manager.docker,
      limitsYaml: "limits: { maxDemos: 1, perClient: 5, queueLength: 2 }",
      appsYaml: `  brief: { image: ${SAMPLE_IMAGE}, port: 8080, ttl: 6s, memory: 32m, readiness: { path: /, timeout: 20s } }`,
      extraYaml: `runtime: swarm\nswarm: { registry: "${REGISTRY}", startTimeout: 60s }\npreviews:\n  ${source}: { repo: ${JSON.stringify(repo.dir)}, port: 8080, readiness: { path: /, timeout: 30s } }`,
    });
    try {
      const first = JSON.parse((await small.api("POST", "/api/demos", { app: "brief" })).body) as { id: string; host: string };
      await waitFor(`${first.id} to be ready`, async () => JSON.parse((await small.api("GET", `/api/demos/${first.id}`)).body).status === "ready", 60_000);
      const second = JSON.parse((await small.api("POST", "/api/demos", { app: "brief" })).body) as { id: string; host: string; status: string; queue?: { position: number } };
      expect(second.status).toBe("queued");
      expect(second.queue?.position).toBe(1);
      // The first one's time box ends; its slot goes to the one waiting, which Swarm then starts.
      await waitFor(`${second.id} to be ready`, async () => JSON.parse((await small.api("GET", `/api/demos/${second.id}`)).body).status === "ready", 60_000, 200);
      expect(JSON.parse((await small.api("GET", `/api/demos/${first.id}`)).body).status).toBe("expired");
      expect((await small.viaNginx(second.host, "/")).status).toBe(200);
      await waitFor(`${second.id} to expire`, async () => JSON.parse((await small.api("GET", `/api/demos/${second.id}`)).body).status === "expired", 30_000, 200);
      // A preview: built on the manager, pushed to the registry, run wherever Swarm puts it.
      const build = JSON.parse((await small.api("POST", "/api/builds", { source, branch: "main" })).body) as { id: string; url: string };
      await waitFor(`build ${build.id}`, async () => {
        const view = JSON.parse((await small.api("GET", `/api/builds/${build.id}`)).body) as { state: string; reason?: string };
        if (view.state === "failed") throw new Error(view.reason);
        return view.state === "ready";
      }, 120_000, 250);
      const host = new URL(build.url).hostname;
      const page = await small.viaNginx(host, "/");
      expect(page.status).toBe(200);
      expect(page.body).toBe("main\n");
      const services = (await swarm.manager.docker.listServices({ filters: { label: [`demo-launcher.namespace=${small.namespace}`, "demo-launcher.kind=preview"] } })) as unknown[];
      expect(services).toHaveLength(1);
    } finally {
      await small.close();
      await rm(root, { recursive: true, force: true });
    }
  }, 240_000);

  it("serves a dead node's demos again from the other nodes, and tells their visitors they started fresh", async () => {
    // The node (not the manager: the controller talks to it) with the most visitor demos.
    const placed = await Promise.all(demos.map(async (demo) => ({ demo, node: await nodeOf(demo.id) })));
    victim = swarm.nodes.slice(1).sort((a, b) => placed.filter((entry) => entry.node === b.address).length - placed.filter((entry) => entry.node === a.address).length)[0]!;
    const onVictim = placed.filter((entry) => entry.node === victim.address).map((entry) => entry.demo);
    expect(onVictim.length).toBeGreaterThan(0);
    // A preview built from git, put on the victim by its source's placement (node.labels.previews==yes); the other
    // non-manager node gets the label once it runs there, so Swarm has somewhere to move it.
    await swarm.label(victim, { previews: "yes" });
    const build = JSON.parse((await stack.api("POST", "/api/builds", { source: "site", branch: "main" })).body) as { id: string; url: string };
    await waitFor(`build ${build.id}`, async () => {
      const view = JSON.parse((await stack.api("GET", `/api/builds/${build.id}`)).body) as { state: string; reason?: string };
      if (view.state === "failed") throw new Error(view.reason);
      return view.state === "ready";
    }, 120_000, 250);
    const preview = (JSON.parse((await stack.api("GET", "/api/demos")).body) as { demos: Array<{ id: string; kind: string; host: string }> }).demos.find((demo) => demo.kind === "preview")!;
    expect(await nodeOf(preview.id)).toBe(victim.address);
    expect(preview.host).toBe(new URL(build.url).hostname);
    await swarm.label(swarm.nodes.slice(1).find((node) => node !== victim)!, { previews: "yes" });
    await swarm.allReady();
    const killedAt = Date.now();
    await swarm.killNode(victim);
    const backAfter: number[] = [];
    // The app itself, not the controller's page that stands in while it moves (no 5xx but 503 meanwhile).
    const seen = new Set<number>();
    await waitFor("the preview to be served from another node", async () => {
      const answer = await stack.viaNginx(preview.host, "/");
      seen.add(answer.status);
      return (await nodeOf(preview.id)) !== victim.address && answer.body === "main\n";
    }, 90_000, 200);
    expect([...seen].filter((status) => status !== 200 && status !== 503)).toEqual([]);
    console.log(`swarm: the dead node's preview served again after ${Date.now() - killedAt} ms`);
    for (const demo of onVictim) {
      await waitFor(`${demo.id} to be served from another node`, async () => {
        if ((await nodeOf(demo.id)) === victim.address) return false;
        const answer = await stack.viaNginx(demo.host, "/");
        return answer.status === 200 && answer.body.includes("Hello guestbook");
      }, 90_000, 200);
      backAfter.push(Date.now() - killedAt);
      expect(JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body).notice).toMatch(/moved to another machine/);
    }
    console.log(`swarm: ${onVictim.length} demo(s) of the dead node served again after ${backAfter.join(", ")} ms`);
    // The others never moved.
    for (const demo of demos.filter((candidate) => !onVictim.includes(candidate))) expect((await stack.viaNginx(demo.host, "/")).status).toBe(200);
  }, 150_000);

  it("empties a drained node with no failed request to a shared demo", async () => {
    await waitFor("the shared demo to be ready", async () => JSON.parse((await stack.api("GET", "/api/demos/try-it")).body).status === "ready", 60_000);
    const replicaNodes = async () => (JSON.parse((await stack.api("GET", "/api/demos/try-it")).body) as { instances: Array<{ endpoint: string }> }).instances.map((instance) => instance.endpoint.split(":")[0]);
    // A live node (the third died above) that holds a replica.
    const holding = await replicaNodes();
    const target = swarm.nodes.filter((node) => node !== victim).reverse().find((node) => holding.includes(node.address))!;
    expect(target).toBeDefined();
    const load = startLoad(stack.nginxPort, "try-it.demo.localhost", { pauseMs: 20 });
    try {
      await load.more(20);
      await swarm.drain(target);
      await waitFor(`no replica left on ${target.address}`, async () => !(await replicaNodes()).includes(target.address) && (await replicaNodes()).length === 2, 90_000, 200);
      await load.more(40);
    } finally {
      await load.stop();
    }
    expect(load.answers.length).toBeGreaterThan(50);
    expect(load.failures).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([]);
    // The drained node comes back, so the next test starts with every demo placeable: when it was the last node with
    // previews==yes (the other died above), the preview could run nowhere, and a CI run saw it fail after the adoption.
    await swarm.activate(target);
    await waitFor("every demo to be ready with the drained node back", async () => (JSON.parse((await stack.api("GET", "/api/demos")).body) as { demos: Array<{ status: string }> }).demos.every((demo) => demo.status === "ready"), 120_000, 200);
  }, 300_000);

  it("lets a controller started on another manager adopt every demo after the first is killed", async () => {
    const beforeDemos = (JSON.parse((await stack.api("GET", "/api/demos")).body) as { demos: Array<{ id: string; status: string; kind: string; pooled?: boolean }> }).demos;
    const before = beforeDemos.map((demo) => demo.id).sort();
    // The demo parked below must be able to run again where the others now are: its host-mode port must be its own
    // (after a node's death and a drain, two demos that had one port on different nodes can meet on one node).
    const portsOf = async (id: string) => ((JSON.parse((await stack.api("GET", `/api/demos/${id}`)).body) as { instances?: Array<{ endpoint?: string }> }).instances ?? []).map((instance) => instance.endpoint?.split(":").at(-1));
    const ports = new Map(await Promise.all(beforeDemos.map(async (demo) => [demo.id, await portsOf(demo.id)] as const)));
    const allPorts = [...ports.values()].flat();
    const ownPort = demos.find((demo) => (ports.get(demo.id) ?? []).every((port) => allPorts.filter((other) => other === port).length === 1));
    stack.child!.kill("SIGKILL");
    await stack.child!.catch(() => {});
    stack.child = undefined;
    // While no controller runs, Swarm starts one demo again and cannot place it yet (as when its node is drained and
    // the others are full): listed with no task running, long after its launch's readiness window closed.
    const parkedDemo = ownPort ?? demos[0]!;
    type ServiceView = { ID: string; Version: { Index: number }; Spec: { TaskTemplate: { Placement?: { Constraints?: string[] }; ForceUpdate?: number } } };
    const [parked] = (await swarm.manager.docker.listServices({ filters: { label: [`demo-launcher.id=${parkedDemo.id}`] } })) as ServiceView[];
    const originalConstraints = parked!.Spec.TaskTemplate.Placement?.Constraints ?? [];
    const updateParked = async (constraints: string[]) => {
      const current = (await swarm.manager.docker.getService(parked!.ID).inspect()) as ServiceView;
      const template = current.Spec.TaskTemplate;
      await swarm.manager.docker.getService(parked!.ID).update({ version: current.Version.Index, ...current.Spec, TaskTemplate: { ...template, Placement: { ...template.Placement, Constraints: constraints }, ForceUpdate: (template.ForceUpdate ?? 0) + 1 } } as never);
    };
    await updateParked([...originalConstraints, "node.labels.parked==yes"]);
    await waitFor(`${parkedDemo.id} to have no running task`, async () => {
      const tasks = (await swarm.manager.docker.listTasks({ filters: { service: [parked!.ID], "desired-state": ["running"] } })) as Array<{ Status: { State: string } }>;
      return tasks.length > 0 && tasks.every((task) => task.Status.State === "pending");
    }, 30_000, 100);
    const second = new Docker({ socketPath: swarm.nodes.find((node) => node !== victim && node !== swarm.manager)!.socket });
    const started = Date.now();
    const scheduler = new CountingScheduler();
    // Its words kept for the failure report below: this controller runs in this process, not as the child.
    const logger = { info: (line: string) => void secondControllerLog.push(`info ${line}`), warn: (line: string) => void secondControllerLog.push(`warn ${line}`), error: (line: string) => void secondControllerLog.push(`error ${line}`) };
    stack.controller = await startController(stack.config, { logger, docker: second, scheduler });
    console.log(`swarm: a controller on the second manager adopted the demos in ${Date.now() - started} ms`);
    const listed = JSON.parse((await stack.api("GET", "/api/demos")).body) as { demos: Array<{ id: string; status: string }> };
    expect(listed.demos.map((demo) => demo.id).sort()).toEqual(before);
    expect(before).toEqual(expect.arrayContaining([...demos.map((demo) => demo.id), "try-it"]));
    // The parked one waits (its visitor told it started fresh) instead of failing at once for its old launch's window.
    expect(JSON.parse((await stack.api("GET", `/api/demos/${parkedDemo.id}`)).body)).toMatchObject({ status: "starting", notice: expect.stringMatching(/started again/) });
    // Failing "at once" would be on its first round; the controller's waits go round many times, and it waits on.
    await scheduler.moreWaits(50);
    expect(JSON.parse((await stack.api("GET", `/api/demos/${parkedDemo.id}`)).body).status).toBe("starting");
    await updateParked(originalConstraints);
    // A demo Swarm was still moving off the drained node when the controller died is adopted too, and turns ready.
    // Each demo by its id: one that ended leaves the list, so "every listed demo is ready" would not see it fail.
    await waitFor("every adopted demo to be ready", async () => {
      for (const id of before) {
        const answer = await stack.api("GET", `/api/demos/${id}`);
        const view = JSON.parse(answer.body) as { status?: string; reason?: string; detail?: string };
        if (answer.status !== 200 || view.status === "failed") throw new GiveUp(`${id} ended after the adoption: ${answer.status} ${view.reason ?? view.detail ?? answer.body}`);
        if (view.status !== "ready") return false;
      }
      return true;
    }, 150_000, 200);
    for (const demo of demos) expect((await stack.viaNginx(demo.host, "/")).status).toBe(200);
  }, 300_000);
});
