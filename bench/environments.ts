// Benchmark section: the Compose example (web, worker, PostgreSQL, Redis) as visitors' environments, beside its floor:
// the same containers, network and volume made through the Engine API by a script, started in the same order, polled.
import { cp } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { composeTemplate } from "../src/app/environments.js";
import { DEFAULT_CAPABILITIES } from "../src/core/app-spec.js";
import type { EnvironmentSpec } from "../src/core/environments/environment-spec.js";
import { labelsFor } from "../src/core/model.js";
import { environmentNames, serviceContainerOptions } from "../src/docker/environment.js";
import { PACKAGE_ROOT } from "../src/nginx/render.js";
import { ensureExampleImages } from "../test/support/example-images.js";
import { freePort, request, startStack, type Stack } from "../test/support/stack.js";
import { median, percentile, round } from "./measure.js";

export interface EnvironmentResults {
  rounds: number;
  services: number;
  coldP50Ms: number;
  coldP95Ms: number;
  floorP50Ms: number;
  floorP95Ms: number;
  coldRatioP50: number;
  coldRatioP95: number;
  teardownP50Ms: number;
  floorTeardownP50Ms: number;
  teardownRatio: number;
  warmClaims: number;
  warmClaimP50Ms: number;
}

const APP = (extra: string) => `    compose: compose-app/compose.yaml\n    route: { service: web, port: 8000 }\n    memory: 256m\n    pids: 256\n    readiness: { path: /healthz, timeout: 2m }\n${extra}`;

export async function environmentsBench(rounds: number, log: (line: string) => void): Promise<EnvironmentResults> {
  await ensureExampleImages();
  const stack = await startStack({
    beforeStart: (dir) => cp(path.join(PACKAGE_ROOT, "examples", "compose-app"), path.join(dir, "compose-app"), { recursive: true }),
    appsYaml: `  tasks:\n${APP("")}  warm:\n${APP("    pool: 1\n")}`,
    limitsYaml: "limits: { maxDemos: 10, perClient: 100 }",
  });
  try {
    const product: number[] = [];
    const floor: number[] = [];
    const teardown: number[] = [];
    const floorTeardown: number[] = [];
    let services = 0;
    // Alternated, so a slow moment of the machine weighs on both alike.
    for (let index = 0; index < rounds; index += 1) {
      const started = performance.now();
      const answer = await stack.api("POST", "/api/demos", { app: "tasks" });
      const { id, host } = JSON.parse(answer.body) as { id: string; host: string };
      await untilServed(stack.nginxPort, host, started);
      product.push(performance.now() - started);
      services = (await ofDemo(stack, id)).containers;
      const removing = performance.now();
      await stack.api("DELETE", `/api/demos/${id}`);
      await untilGone(stack, id);
      teardown.push(performance.now() - removing);

      const byHand = await floorEnvironment(stack, `floor${index}`);
      floor.push(byHand.readyMs);
      floorTeardown.push(byHand.teardownMs);
    }
    const claims = await warmClaims(stack, Math.max(2, Math.ceil(rounds / 2)));
    const results: EnvironmentResults = {
      rounds,
      services,
      coldP50Ms: round(median(product)),
      coldP95Ms: round(percentile(product, 95)),
      floorP50Ms: round(median(floor)),
      floorP95Ms: round(percentile(floor, 95)),
      coldRatioP50: round(median(product) / median(floor), 2),
      coldRatioP95: round(percentile(product, 95) / percentile(floor, 95), 2),
      teardownP50Ms: round(median(teardown)),
      floorTeardownP50Ms: round(median(floorTeardown)),
      teardownRatio: round(median(teardown) / median(floorTeardown), 2),
      warmClaims: claims.length,
      warmClaimP50Ms: round(median(claims)),
    };
    log(`environments: ${JSON.stringify(results)}`);
    return results;
  } finally {
    await stack.close();
  }
}

/** Until the web service answers /healthz through nginx (the product) or its own port (the floor). */
async function untilServed(port: number, host: string | undefined, startedAt: number): Promise<void> {
  while (performance.now() - startedAt < 180_000) {
    const answer = await request(port, { ...(host ? { host } : {}), path: "/healthz" }).catch(() => undefined);
    if (answer?.status === 200 && answer.body.trim() === "ok") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${host ?? `port ${port}`} did not answer /healthz within 180 s`);
}

async function ofDemo(stack: Stack, id: string): Promise<{ containers: number; networks: number; volumes: number }> {
  const filters = { label: [`demo-launcher.namespace=${stack.namespace}`, `demo-launcher.id=${id}`] };
  return {
    containers: (await stack.docker.listContainers({ all: true, filters })).length,
    networks: (await stack.docker.listNetworks({ filters })).length,
    volumes: ((await stack.docker.listVolumes({ filters })).Volumes ?? []).length,
  };
}

async function untilGone(stack: Stack, id: string): Promise<void> {
  for (;;) {
    const left = await ofDemo(stack, id);
    if (left.containers + left.networks + left.volumes === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The floor: what a script does with the Engine API for the same file. The containers' options are the product's
 * own (so the two run the same processes with the same limits); the script creates the network and volume, creates
 * every container, starts db and cache, polls their health every 100 ms, starts web and the worker, polls web's port.
 */
async function floorEnvironment(stack: Stack, name: string): Promise<{ readyMs: number; teardownMs: number }> {
  const docker = stack.docker;
  const spec = await renderExample(stack, name);
  const hostPort = await freePort();
  const started = performance.now();
  const network = await docker.createNetwork({ Name: `bench-${stack.namespace}-${name}`, Driver: "bridge", Labels: { "demo-launcher.namespace": stack.namespace } });
  // Named as the product would name this demo's (the containers' options mount them by those names).
  const volumeNames = spec.environment.spec.volumes.map((volume) => environmentNames(stack.namespace, name).volume(volume));
  for (const volume of volumeNames) await docker.createVolume({ Name: volume, Labels: { "demo-launcher.namespace": stack.namespace } });
  const containers = new Map<string, Docker.Container>();
  for (const service of spec.environment.spec.services) {
    const options = serviceContainerOptions(spec, service, `bench-${stack.namespace}-${name}`, { hardened: true, quota: false, hostPort, portLabel: "demo-launcher.port" });
    containers.set(service.name, await docker.createContainer({ ...options, name: `bench-${stack.namespace}-${name}-${service.name}` }));
  }
  const dependencies = spec.environment.spec.services.filter((service) => service.name === "db" || service.name === "cache");
  for (const service of dependencies) await containers.get(service.name)!.start();
  for (const service of dependencies) {
    for (;;) {
      const info = await containers.get(service.name)!.inspect();
      if (info.State.Health?.Status === "healthy") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  for (const service of spec.environment.spec.services.filter((candidate) => !dependencies.includes(candidate))) await containers.get(service.name)!.start();
  await untilServed(hostPort, undefined, started);
  const readyMs = performance.now() - started;
  const removing = performance.now();
  await Promise.all([...containers.values()].map((container) => container.remove({ force: true, v: true })));
  await network.remove();
  await Promise.all(volumeNames.map((volume) => docker.getVolume(volume).remove()));
  return { readyMs, teardownMs: performance.now() - removing };
}

async function renderExample(stack: Stack, name: string) {
  const template = composeTemplate(stack.dir, "compose-app/compose.yaml", { capabilities: [...DEFAULT_CAPABILITIES], route: { service: "web", port: 8000 } });
  const rendered = await template.render({ DEMO_URL: `http://${name}.demo.localhost/` });
  if (!rendered.ok) throw new Error(rendered.problems.join("\n"));
  const environment: EnvironmentSpec = rendered.environment;
  const now = Date.now();
  return {
    demoId: name,
    instanceId: `${name}-1`,
    namespace: stack.namespace,
    image: "demo-launcher-example/compose-app:latest",
    containerPort: 8000,
    labels: labelsFor({ demo: { id: name, kind: "visitor", app: "tasks", host: `${name}.demo.localhost`, createdAt: now, expiresAt: now + 600_000, namespace: `${stack.namespace}-floor` }, instance: { id: `${name}-1`, generation: 1, image: "demo-launcher-example/compose-app:latest" } }),
    env: {},
    memoryBytes: 256 * 1024 ** 2,
    cpus: 0.5,
    pids: 256,
    hardening: { capabilities: [...DEFAULT_CAPABILITIES], disk: 1024 ** 3 },
    environment: { spec: environment, projectRoot: stack.dir, startTimeoutMs: 120_000 },
  };
}

/** A claim from a pool of one whole environment: POST → 201 with a ready demo; the pool refills before the next. */
async function warmClaims(stack: Stack, count: number): Promise<number[]> {
  const claims: number[] = [];
  for (let index = 0; index < count; index += 1) {
    for (;;) {
      const status = JSON.parse((await stack.api("GET", "/api/status")).body) as { pool: Record<string, { ready: number }> };
      if (status.pool.warm?.ready === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const started = performance.now();
    const answer = await stack.api("POST", "/api/demos", { app: "warm" });
    const claimed = performance.now() - started;
    const demo = JSON.parse(answer.body) as { id: string; status: string };
    if (answer.status !== 201 || demo.status !== "ready") throw new Error(`a warm claim answered ${answer.status} ${demo.status}`);
    claims.push(claimed);
    await stack.api("DELETE", `/api/demos/${demo.id}`);
  }
  return claims;
}

export function environmentRows(r: EnvironmentResults): string[][] {
  return [
    [`Compose example (${r.services} services) cold launch p50 / p95 (POST → /healthz via nginx, ${r.rounds} rounds)`, `${r.coldP50Ms} / ${r.coldP95Ms} ms`, `floor (same containers, network and volume by a script through the Engine API, same order, polled) ${r.floorP50Ms} / ${r.floorP95Ms} ms`, `${r.coldRatioP50} / ${r.coldRatioP95}× floor (target ≤ 1.2)`],
    ["Compose example teardown p50 (DELETE → no container, network or volume left)", `${r.teardownP50Ms} ms`, `floor (the same objects removed by a script) ${r.floorTeardownP50Ms} ms`, `${r.teardownRatio}× floor (target ≤ 1.2)`],
    [`Compose example warm-pool claim p50 (${r.warmClaims} claims of a whole environment)`, `${r.warmClaimP50Ms} ms`, `cold p50 ${r.coldP50Ms} ms`, "target ≤ 30 ms"],
  ];
}
