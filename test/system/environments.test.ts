// A Compose app as visitors' demos through the whole stack (real Docker, nginx, iptables): served by nginx, its services held in like any demo, gone whole at expiry, and no orphan after kill -9 mid-start.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_IMAGE } from "../../src/docker/sample-image.js";
import { execIn } from "../support/container-exec.js";
import { TEST_COMPOSE, writeComposeProject } from "../support/compose-project.js";
import { startLoad } from "../support/load.js";
import { publish, startRegistry, type Registry } from "../support/registry.js";
import { GiveUp, launchAndWait, requireDocker, startStack, untilPast, waitFor, type Stack } from "../support/stack.js";

async function writeProject(dir: string): Promise<void> {
  await writeComposeProject(path.join(dir, "shop"));
}

const SHOP = (extra = "") => `    compose: shop/compose.yaml\n    route: { service: web, port: 8080 }\n    memory: 64m\n    readiness: { path: /cgi-bin/index.cgi, timeout: 60s }\n${extra}`;

/** Every object of a demo on the Docker host, by our labels. */
async function objectsOf(stack: Stack, demoId: string): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const filters = { label: [`demo-launcher.namespace=${stack.namespace}`, `demo-launcher.id=${demoId}`] };
  return {
    containers: (await stack.docker.listContainers({ all: true, filters })).map((info) => info.Labels["demo-launcher.service"] ?? "?").sort(),
    networks: (await stack.docker.listNetworks({ filters })).map((network) => network.Name),
    volumes: ((await stack.docker.listVolumes({ filters })).Volumes ?? []).map((volume) => volume.Name),
  };
}

/** Asks for a replacement of the demo (the file read again) and waits for its end; a failed one fails with its reason. */
async function replaceAndWait(stack: Stack, id: string): Promise<void> {
  expect((await stack.api("POST", `/api/demos/${id}/replace`, {})).status).toBe(202);
  await waitFor("the replacement to succeed", async () => {
    const view = JSON.parse((await stack.api("GET", `/api/demos/${id}`)).body) as { replacement?: { status: string; reason?: string } };
    if (view.replacement?.status === "failed") throw new GiveUp(`the replacement failed: ${view.replacement.reason}`);
    return view.replacement?.status === "succeeded";
  }, 90_000);
}

describe("a Compose app as visitors' demos", () => {
  let stack: Stack;
  let server: net.Server;
  let hostPort = 0;
  let registry: Registry;
  let registryDir: string;
  let pulledImage: string;

  beforeAll(async () => {
    // A registry on loopback holding the image of the "pulled" app's db: no launch has it on the host before.
    const docker = await requireDocker();
    registryDir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-env-registry-"));
    registry = await startRegistry(registryDir);
    pulledImage = await publish(docker, registry.address, `shop/db:${Date.now()}`);
    // Something else the host runs, listening everywhere: no service of an environment may reach it.
    server = net.createServer((socket) => socket.end("host-secret\n"));
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    hostPort = (server.address() as net.AddressInfo).port;
    const withDb = (image: string) => TEST_COMPOSE.replace(`  db:\n    image: ${SAMPLE_IMAGE}`, `  db:\n    image: ${image}`);
    // A replaced instance drains 1 s (10 s by default): enough for nginx's reload; two replacements here wait for it.
    stack = await startStack({
      nginxYaml: "  drain: 1s",
      beforeStart: async (dir) => {
        await writeProject(dir);
        await writeFile(path.join(dir, "shop", "pulled.yaml"), withDb(pulledImage));
        await writeFile(path.join(dir, "shop", "ghost.yaml"), withDb(`${registry.address}/nobody/nothing:1`));
      },
      appsYaml: `  shop:\n${SHOP()}  apied:\n${SHOP("    routes: [{ service: db, port: 8080, name: api }]\n")}  brief:\n${SHOP("    ttl: 8s\n")}  warm:\n${SHOP("    pool: 1\n")}  pulled:\n${SHOP().replace("shop/compose.yaml", "shop/pulled.yaml")}  ghost:\n${SHOP().replace("shop/compose.yaml", "shop/ghost.yaml")}`,
      limitsYaml: "limits: { maxDemos: 10, perClient: 10 }",
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    server?.close();
    registry?.process.kill();
    if (pulledImage) await stack?.docker.getImage(pulledImage).remove({ force: true }).catch(() => {});
    if (registryDir) await rm(registryDir, { recursive: true, force: true });
  });

  it("pulls a service's image from its registry at the first launch, and fails one whose image is nowhere, naming the service", async () => {
    const demo = await launchAndWait(stack, "pulled", "ready", 90_000);
    expect((await stack.viaNginx(demo.host, "/cgi-bin/index.cgi")).body).toContain("db says ok");
    // No preview source is configured here, yet the image keeper runs for what launches pull, and has noted it.
    await waitFor("the keeper to note the pulled image", async () => {
      const saved = JSON.parse((await readFile(path.join(stack.config.stateDir, "preview-images.json"), "utf8").catch(() => "{}")) || "{}") as { pulled?: Record<string, number> };
      return saved.pulled?.[pulledImage] !== undefined;
    }, 30_000, 100);
    const ghost = await launchAndWait(stack, "ghost", "failed", 90_000);
    expect(ghost.reason).toMatch(new RegExp(`^the image ${registry.address}/nobody/nothing:1 is not in ${registry.address} \\(.*manifest unknown\\) \\(service db\\)$`));
  });

  it("serves every visitor an environment of its own through nginx: web reaches db by name and knows its own URL", async () => {
    const demo = await launchAndWait(stack, "shop", "ready", 90_000);
    const answer = await stack.viaNginx(demo.host, "/cgi-bin/index.cgi");
    expect(answer.status).toBe(200);
    expect(answer.body).toContain(`web says hello at http://${demo.host}:${stack.nginxPort}/`);
    expect(answer.body).toContain("db says ok");
    expect(await objectsOf(stack, demo.id)).toMatchObject({ containers: ["db", "migrate", "web", "worker"], networks: [`demo-launcher-${stack.namespace}-${demo.id}`], volumes: [`demo-launcher-${stack.namespace}-${demo.id}-data`] });
    // Its services as they run: migrate did its work and exited, db is healthy, web is the routed one. db's health is
    // Docker's word: web started on the controller's start_interval probe, Docker's own first check follows within its
    // interval (2 s).
    const services = async () => JSON.parse((await stack.api("GET", `/api/demos/${demo.id}/services`)).body) as { services: Array<{ service: string; health?: string }> };
    await waitFor("Docker to call db healthy", async () => (await services()).services.find((service) => service.service === "db")?.health === "healthy", 30_000, 200);
    expect(await services()).toEqual({
      services: [
        { service: "db", state: "running", health: "healthy", routed: false },
        { service: "migrate", state: "exited", routed: false },
        { service: "web", state: "running", routed: true },
        { service: "worker", state: "running", routed: false },
      ],
    });
    // Logs per service: the routed one's by default, another's by name, an unknown name answered with the list.
    expect((await stack.api("GET", `/api/demos/${demo.id}/logs?lines=20&service=db`)).body).toContain("guestbook listening on :8080");
    const unknown = await stack.api("GET", `/api/demos/${demo.id}/logs?service=cache`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ detail: `Demo ${demo.id} has no service "cache"; its services: db, migrate, web, worker.`, services: ["db", "migrate", "web", "worker"] });
    // A second visitor's environment is another one: its own network and volume.
    const other = await launchAndWait(stack, "shop", "ready", 90_000);
    expect((await objectsOf(stack, other.id)).volumes).toEqual([`demo-launcher-${stack.namespace}-${other.id}-data`]);
    const worker = (await stack.docker.listContainers({ filters: { label: [`demo-launcher.id=${other.id}`, "demo-launcher.service=worker"] } }))[0]!;
    expect((await execIn(stack.docker, worker.Id, ["cat", "/data/worker.txt"])).trim()).toBe(`worker-of-${other.id}`);
  });

  it("serves a further routed service at a host of its own, listed in the demo's view, and follows it through a replacement", async () => {
    const demo = await launchAndWait(stack, "apied", "ready", 90_000);
    const apiHost = `api-${demo.host}`;
    expect((await stack.viaNginx(apiHost, "/health.txt")).body.trim()).toBe("ok");
    const view = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body) as { url: string; routes?: Array<{ name: string; url: string }> };
    expect(view.routes).toEqual([{ name: "api", url: view.url.replace(demo.host, apiHost) }]);
    // db answers at api- and stays reachable by name from web: one environment, two hosts.
    expect((await stack.viaNginx(demo.host, "/cgi-bin/index.cgi")).body).toContain("db says ok");
    // A replacement gives the further routed service new ports (it holds the volume: stopped first); nginx follows.
    await replaceAndWait(stack, demo.id);
    await waitFor("api- to answer from the new db", async () => (await stack.viaNginx(apiHost, "/health.txt")).body.trim() === "ok", 30_000);
    expect((await stack.api("DELETE", `/api/demos/${demo.id}`)).status).toBe(204);
  });

  it("hands out a whole environment from the warm pool, already running and routed, and makes the next one", async () => {
    const poolStatus = async () => JSON.parse((await stack.api("GET", "/api/status")).body).pool.warm as { ready: number; starting: number };
    await waitFor("the pool's environment to be ready", async () => (await poolStatus()).ready === 1, 90_000);
    const before = (await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.namespace=${stack.namespace}`, "demo-launcher.app=warm"] } })).map((info) => info.Id);
    const answer = await stack.api("POST", "/api/demos", { app: "warm" });
    expect(answer.status).toBe(201);
    const demo = JSON.parse(answer.body) as { id: string; host: string; status: string };
    expect(demo.status).toBe("ready");
    // Every service of the claimed environment was there before the claim (migrate has run and exited).
    const claimed = await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${demo.id}`] } });
    expect(claimed.map((info) => info.Labels["demo-launcher.service"]).sort()).toEqual(["db", "migrate", "web", "worker"]);
    for (const info of claimed) expect(before).toContain(info.Id);
    expect((await stack.viaNginx(demo.host, "/cgi-bin/index.cgi")).body).toContain("db says ok");
    await waitFor("the pool to make the next environment", async () => (await poolStatus()).ready === 1, 90_000);
  });

  it("replaces an environment under load with no failed request: web starts anew, db and its volume's data stay as they were", async () => {
    const demo = await launchAndWait(stack, "shop", "ready", 90_000);
    const containers = () => stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${demo.id}`] } });
    const byService = async () => Object.fromEntries((await containers()).map((info) => [info.Labels["demo-launcher.service"], info.Id]));
    const before = await byService();
    await execIn(stack.docker, before.db!, ["/bin/sh", "-c", "echo a-row > /data/row.txt"]);
    const load = startLoad(stack.nginxPort, demo.host, { path: "/cgi-bin/index.cgi" });
    try {
      await load.more(10);
      await replaceAndWait(stack, demo.id);
      await load.more(10);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200 || !answer.body.includes("db says ok"))).toEqual([]);
    // Once the old web has drained, the environment is the new web and the very db, migrate and worker it had.
    await waitFor("the old web to be removed", async () => (await containers()).length === 4, 60_000);
    const after = await byService();
    expect(after.web).not.toBe(before.web);
    expect({ db: after.db, migrate: after.migrate, worker: after.worker }).toEqual({ db: before.db, migrate: before.migrate, worker: before.worker });
    expect((await execIn(stack.docker, after.db!, ["cat", "/data/row.txt"])).trim()).toBe("a-row");
    expect((await stack.api("DELETE", `/api/demos/${demo.id}`)).status).toBe(204);
  });

  it("keeps the host's own services out of reach of every service of an environment", async () => {
    const demo = await launchAndWait(stack, "shop", "ready", 90_000);
    const db = (await stack.docker.listContainers({ filters: { label: [`demo-launcher.id=${demo.id}`, "demo-launcher.service=db"] } }))[0]!;
    const info = await stack.docker.getContainer(db.Id).inspect();
    const gateway = Object.values(info.NetworkSettings.Networks)[0]!.Gateway;
    // The control: the service answers on that address from the host itself.
    const fromHost = await new Promise<string>((resolve, reject) => net.connect(hostPort, gateway).on("data", (data) => resolve(String(data))).on("error", reject));
    expect(fromHost).toBe("host-secret\n");
    const fromDemo = await execIn(stack.docker, db.Id, ["/bin/sh", "-c", `nc -w 2 ${gateway} ${hostPort} 2>&1; echo "exit=$?"`]);
    expect(fromDemo).not.toContain("host-secret");
    expect(fromDemo).toMatch(/exit=1/);
  });

  it("removes every container, the network and the volume of an expired environment, and nothing else", async () => {
    // Someone's own objects named as the file names them: never ours. (A "data" volume the host already has is
    // used as it is and left alone.)
    const existed = await stack.docker.getVolume("data").inspect().then(() => true, () => false);
    if (!existed) await stack.docker.createVolume({ Name: "data" });
    const planted = await stack.docker.createNetwork({ Name: `default-${stack.namespace}` });
    try {
      // Its time box may end before it is ready on a slow machine: it must go whole either way.
      const answer = await stack.api("POST", "/api/demos", { app: "brief" });
      const demo = JSON.parse(answer.body) as { id: string; host: string; expiresAt: string };
      await waitFor("the environment's containers to exist", async () => (await objectsOf(stack, demo.id)).containers.length === 4, 60_000);
      await untilPast(Date.parse(demo.expiresAt));
      await stack.controller!.engine.until(demo.id, (view) => view === undefined || view.status === "expired", AbortSignal.timeout(60_000));
      await waitFor("the environment's objects to be gone", async () => {
        const left = await objectsOf(stack, demo.id);
        return left.containers.length + left.networks.length + left.volumes.length === 0;
      }, 60_000);
      expect((await stack.viaNginx(demo.host, "/")).status).toBe(410);
      expect((await stack.docker.getVolume("data").inspect()).Name).toBe("data");
      expect((await planted.inspect()).Name).toBe(`default-${stack.namespace}`);
    } finally {
      if (!existed) await stack.docker.getVolume("data").remove().catch(() => {});
      await planted.remove().catch(() => {});
    }
  });
});

describe("a Compose app's environment after kill -9 mid-start", () => {
  let stack: Stack;

  beforeAll(async () => {
    // db answers only after 30 s, so the controller is killed while web waits for it to be healthy.
    stack = await startStack({ controller: "child", beforeStart: writeProject, appsYaml: `  shop:\n${SHOP("    env: { DB_START_DELAY: '30' }\n")}  quick:\n${SHOP()}`, limitsYaml: "limits: { maxDemos: 10, perClient: 10 }" });
  }, 180_000);

  afterAll(async () => stack?.close());

  it("adopts a ready environment after kill -9 with every service as it was, and removes it whole when stopped", async () => {
    const demo = await launchAndWait(stack, "quick", "ready", 90_000);
    const before = (await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${demo.id}`] } })).map((info) => info.Id).sort();
    expect(before).toHaveLength(4);
    stack.child!.kill("SIGKILL");
    await stack.child!.catch(() => {});
    await stack.startChild();
    const adopted = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body) as { status: string };
    expect(adopted.status).toBe("ready");
    expect((await stack.viaNginx(demo.host, "/cgi-bin/index.cgi")).body).toContain("db says ok");
    // The same containers: nothing was started again or left twice.
    expect((await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${demo.id}`] } })).map((info) => info.Id).sort()).toEqual(before);
    expect((await stack.api("DELETE", `/api/demos/${demo.id}`)).status).toBe(204);
    await waitFor("the environment's objects to be gone", async () => {
      const left = await objectsOf(stack, demo.id);
      return left.containers.length + left.networks.length + left.volumes.length === 0;
    }, 60_000);
  });

  it("finishes or undoes a replacement killed with -9 half-way: one web, the same db, nothing orphaned", async () => {
    const demo = await launchAndWait(stack, "quick", "ready", 90_000);
    const containers = () => stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${demo.id}`] } });
    const db = (await containers()).find((info) => info.Labels["demo-launcher.service"] === "db")!.Id;
    expect((await stack.api("POST", `/api/demos/${demo.id}/replace`, {})).status).toBe(202);
    // Killed once the new web exists (created or starting), before the switch.
    await waitFor("the new web to be created", async () => (await containers()).filter((info) => info.Labels["demo-launcher.service"] === "web").length === 2, 60_000);
    stack.child!.kill("SIGKILL");
    await stack.child!.catch(() => {});
    await stack.startChild();
    await waitFor("one web left, the replacement finished or undone", async () => {
      const view = JSON.parse((await stack.api("GET", `/api/demos/${demo.id}`)).body) as { status: string; replacement?: { status: string } };
      return view.status === "ready" && view.replacement?.status !== "running" && (await containers()).length === 4;
    }, 90_000);
    const left = await containers();
    expect(left.map((info) => info.Labels["demo-launcher.service"]).sort()).toEqual(["db", "migrate", "web", "worker"]);
    expect(left.find((info) => info.Labels["demo-launcher.service"] === "db")!.Id).toBe(db);
    expect((await stack.viaNginx(demo.host, "/cgi-bin/index.cgi")).body).toContain("db says ok");
    expect((await stack.api("DELETE", `/api/demos/${demo.id}`)).status).toBe(204);
  });

  it("leaves no container, network or volume of the half-started environment once the next controller has looked", async () => {
    const answer = await stack.api("POST", "/api/demos", { app: "shop" });
    expect(answer.status).toBe(201);
    const { id } = JSON.parse(answer.body) as { id: string };
    // Killed once db runs and web waits for it: routed container created, not started.
    await waitFor("db to run while web waits", async () => {
      const containers = await stack.docker.listContainers({ all: true, filters: { label: [`demo-launcher.id=${id}`] } });
      return containers.some((info) => info.Labels["demo-launcher.service"] === "db" && info.State === "running") && containers.some((info) => info.Labels["demo-launcher.service"] === "web" && info.State === "created");
    }, 60_000);
    stack.child!.kill("SIGKILL");
    await stack.child!.catch(() => {});
    await stack.startChild();
    await waitFor("nothing of the half-started environment to be left", async () => {
      const left = await objectsOf(stack, id);
      return left.containers.length + left.networks.length + left.volumes.length === 0;
    }, 60_000).catch(async (error: Error) => {
      throw new Error(`${error.message}; left: ${JSON.stringify(await objectsOf(stack, id))}; the controller said:\n${stack.childOutput.slice(-3000)}`);
    });
  });
});

describe("a shared demo of a Compose app", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ beforeStart: writeProject, nginxYaml: "  drain: 1s", appsYaml: `  shop:\n${SHOP()}`, extraYaml: "shared:\n  try-shop: { app: shop, replicas: 2 }", limitsYaml: "limits: { maxDemos: 10, perClient: 10 }" });
  }, 180_000);

  afterAll(async () => stack?.close());

  /** The shared demo's containers, networks and volumes, by the replica (instance) each belongs to. */
  async function replicas(): Promise<Record<string, { containers: number; networks: number; volumes: number }>> {
    const filters = { label: [`demo-launcher.namespace=${stack.namespace}`, "demo-launcher.id=try-shop"] };
    const byInstance: Record<string, { containers: number; networks: number; volumes: number }> = {};
    const count = (instance: string | undefined, what: "containers" | "networks" | "volumes") => {
      const entry = (byInstance[instance ?? "?"] ??= { containers: 0, networks: 0, volumes: 0 });
      entry[what] += 1;
    };
    for (const info of await stack.docker.listContainers({ all: true, filters })) count(info.Labels["demo-launcher.instance"], "containers");
    for (const network of await stack.docker.listNetworks({ filters })) count(network.Labels?.["demo-launcher.instance"], "networks");
    for (const volume of (await stack.docker.listVolumes({ filters })).Volumes ?? []) count(volume.Labels?.["demo-launcher.instance"], "volumes");
    return byInstance;
  }

  it("runs each replica as a whole environment of its own and resets them under a request loop with no failed request", async () => {
    const view = async () => (JSON.parse((await stack.api("GET", "/api/shared")).body).shared as Array<{ name: string; status: string; instances: Array<{ id: string; health: string }>; lastReset?: { status: string; reason?: string } }>).find((entry) => entry.name === "try-shop")!;
    const first = await waitFor("two replicas to serve", async () => {
      const current = await view();
      return current.status === "ready" && current.instances.filter((instance) => instance.health === "healthy").length === 2 ? current : undefined;
    }, 120_000);
    // Two replicas, each four containers on a network and a volume of its own: one replica's web never reaches the other's db.
    const before = await replicas();
    expect(Object.keys(before).sort()).toEqual(first.instances.map((instance) => instance.id).sort());
    for (const objects of Object.values(before)) expect(objects).toEqual({ containers: 4, networks: 1, volumes: 1 });

    const load = startLoad(stack.nginxPort, `try-shop.demo.localhost`, { path: "/cgi-bin/index.cgi" });
    try {
      await load.more(10);
      expect((await stack.api("POST", "/api/shared/try-shop/reset")).status).toBe(202);
      await waitFor("the reset to succeed", async () => {
        const current = await view();
        if (current.lastReset?.status === "failed") throw new GiveUp(`the reset failed: ${current.lastReset.reason}`);
        return current.lastReset?.status === "succeeded";
      }, 120_000);
      await load.more(10);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200 || !answer.body.includes("db says ok"))).toEqual([]);
    // The old replicas drained and went whole: their containers, networks and volumes; two new ones serve.
    const after = await waitFor("only the new replicas' objects to be left", async () => {
      const now = await replicas();
      return Object.keys(now).length === 2 && Object.keys(now).every((instance) => !(instance in before)) ? now : undefined;
    }, 60_000);
    for (const objects of Object.values(after)) expect(objects).toEqual({ containers: 4, networks: 1, volumes: 1 });
  });
});
