// Test helpers: a real Docker engine, a private real nginx, the watcher and a controller, in a temp dir.
import { PREVIEW_IMAGE_REPO } from "../../src/builds/image-builder.js";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { execa, type ResultPromise } from "execa";
import { startController, type ControllerHandle } from "../../src/app/controller.js";
import { LeaseStore } from "../../src/docker/namespace-lease.js";
import { startWatcherBesideNginx } from "../../src/app/watcher-service.js";
import { parseConfigText, type Config } from "../../src/config/load.js";
import { buildSampleImage, SAMPLE_IMAGE, sampleImageIsCurrent } from "../../src/docker/sample-image.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { PrivateNginx } from "../../src/nginx/private-nginx.js";
import type { NginxWatcher } from "../../src/nginx/watcher.js";
import { PACKAGE_ROOT } from "../../src/nginx/render.js";
import { RoutesFile } from "../../src/nginx/routes-file.js";
import type { DemoView } from "../../src/core/model.js";
import { STARTING_GATE } from "../../src/core/routing/routes.js";

export const CLI = path.join(PACKAGE_ROOT, "dist/cli/main.js");

/** Fails with a reason a person can act on; these tests never skip. */
export async function requireDocker(): Promise<Docker> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(`These tests need a running Docker engine and none answers (${(error as Error).message}). Run scripts/ensure-host.sh (npm test does) to install and start it.`);
  }
  if (!(await sampleImageIsCurrent(docker))) await buildSampleImage(docker);
  return docker;
}

/**
 * A port free for a listener the test starts a moment later. Taken below Linux's ephemeral range (32768 and up):
 * a port the kernel handed out (listen 0) can be taken again by any outgoing connection before the listener binds.
 * A tier that runs beside another takes its own range, so the two never pick the same port at the same moment.
 */
export async function freePort(range = { from: 10_000, to: 19_999 }): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = range.from + Math.floor(Math.random() * (range.to - range.from + 1));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between ${range.from} and ${range.to} after 50 tries`);
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Node cannot resolve *.localhost: connect to 127.0.0.1 and send the Host header. */
export function request(port: number, options: { host?: string; path?: string; method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: options.path ?? "/", method: options.method ?? "GET", headers: { ...(options.host ? { host: options.host } : {}), ...(options.headers ?? {}) }, agent: false, timeout: options.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Thrown from a waitFor check when waiting longer cannot help. */
export class GiveUp extends Error {}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

/**
 * Waits until the wall clock has passed `epochMs`: for a time box or a schedule of a controller running as its own
 * process, whose clock is the real one. An instant the system under test named, never a guessed duration.
 */
export async function untilPast(epochMs: number): Promise<void> {
  while (Date.now() <= epochMs) await new Promise((resolve) => setTimeout(resolve, epochMs - Date.now() + 1));
}

export async function removeNamespace(docker: Docker, namespace: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`demo-launcher.namespace=${namespace}`] } });
  await Promise.all(containers.map((info) => docker.getContainer(info.Id).remove({ force: true }).catch(() => {})));
  // Environments' own networks and volumes (they carry the namespace too).
  for (const network of await docker.listNetworks({ filters: { label: [`demo-launcher.namespace=${namespace}`] } }).catch(() => [])) await docker.getNetwork(network.Id).remove().catch(() => {});
  for (const volume of (await docker.listVolumes({ filters: { label: [`demo-launcher.namespace=${namespace}`] } }).catch(() => ({ Volumes: [] }))).Volumes ?? []) await docker.getVolume(volume.Name).remove().catch(() => {});
  // The lease records a controller killed with SIGKILL left (volumes on one host, configs on a swarm).
  for (const swarm of [false, true]) {
    const store = new LeaseStore(docker, swarm);
    for (const record of await store.list(namespace).catch(() => [])) await store.remove(record).catch(() => {});
  }
}

export async function namespaceContainers(docker: Docker, namespace: string) {
  return docker.listContainers({ all: true, filters: { label: [`demo-launcher.namespace=${namespace}`] } });
}

export interface StackOptions {
  /** The demos' domain; demo.localhost by default. */
  domain?: string;
  /** nginx's plain port, when something must know it first (an ACME server checking HTTP-01); a free one by default. */
  nginxPort?: number;
  /** Extra YAML for the apps: section (indented by two spaces), replacing the default hello app. */
  appsYaml?: string;
  extraYaml?: string;
  /** Host ports for demos; by default a random 500-port window, so parallel stacks rarely meet. */
  ports?: { from: number; to: number } | undefined;
  /** Extra keys of the nginx: section (each line indented by two spaces), e.g. "  drain: 2s". */
  nginxYaml?: string;
  /** Replaces the default limits line. */
  limitsYaml?: string;
  /** Runs in the stack's directory before the config is read (operator files and the like). */
  beforeStart?: (dir: string) => Promise<void>;
  /** "child" runs `demo-launcher serve` as its own process, so a test can kill -9 it. */
  controller?: "in-process" | "child" | "none";
  logger?: Logger;
  /** The Docker daemon the controller uses (a swarm manager's); the host's by default. */
  docker?: Docker;
  /** DOCKER_HOST for a child controller (with `docker`, the same daemon). */
  dockerHost?: string;
  /** Controller options beyond the config (in-process only), e.g. the benchmark's `defences: false`. */
  controllerOptions?: Partial<import("../../src/app/controller.js").ControllerOptions>;
}

export interface Stack {
  dir: string;
  configFile: string;
  config: Config;
  namespace: string;
  nginx: PrivateNginx;
  nginxPort: number;
  watcher: NginxWatcher;
  controller?: ControllerHandle;
  child?: ResultPromise;
  /** The last of what the child controller printed. */
  childOutput: string;
  docker: Docker;
  /** A request through nginx, as a visitor's browser would send it. */
  viaNginx(host: string, path?: string, options?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Answer>;
  /** A request straight to the controller (the CLI's path). */
  api(method: string, path: string, body?: unknown): Promise<Answer>;
  startChild(): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const docker = options.docker ?? (await requireDocker());
  const dir = await mkdtemp(path.join(os.tmpdir(), "demo-launcher-test-"));
  const namespace = `t${Math.random().toString(36).slice(2, 10)}`;
  const nginxPort = options.nginxPort ?? (await freePort());
  const controllerPort = await freePort();
  const portBase = 30000 + Math.floor(Math.random() * 60) * 500;
  const ports = options.ports ?? { from: portBase, to: portBase + 499 };
  const appsYaml =
    options.appsYaml ??
    `  hello:
    image: ${SAMPLE_IMAGE}
    port: 8080
    ttl: 10m
    memory: 64m
    pids: 64
    readiness: { path: /, timeout: 20s }`;
  const yaml = `domain: ${options.domain ?? "demo.localhost"}
namespace: ${namespace}
listen: 127.0.0.1:${controllerPort}
stateDir: state
nginx:
  listen: 127.0.0.1:${nginxPort}
  configDir: nginx-config
  debounce: 50ms
${options.nginxYaml ?? ""}
ports: { from: ${ports.from}, to: ${ports.to} }
${options.limitsYaml ?? "limits: { maxDemos: 20, perClient: 1 }"}
${options.extraYaml ?? ""}
apps:
${appsYaml}
`;
  const configFile = path.join(dir, "config.yaml");
  await writeFile(configFile, yaml);
  await options.beforeStart?.(dir);
  const config = parseConfigText(yaml, configFile, dir);
  const logger = options.logger ?? silentLogger;
  const tls = config.tls && config.nginx.listenTls ? { listen: config.nginx.listenTls } : undefined;
  const nginx = await PrivateNginx.prepare({ prefix: path.join(dir, "nginx-prefix"), configDir: config.nginx.configDir, listen: config.nginx.listen, seenLog: config.nginx.seenLog, tls });
  const controllerMode = options.controller ?? "in-process";
  // nginx needs a routes file before it starts; an empty routing (everything to the controller) is valid. With
  // HTTPS the controller writes it (it names the certificate), so it starts first, as under `up`.
  let controller: ControllerHandle | undefined;
  if (tls && controllerMode === "in-process") controller = await startController(config, { logger, docker, ...options.controllerOptions });
  else await new RoutesFile(config.nginx.configDir, config.nginx.controller).write([], 0);
  await nginx.start();
  // Tests begin once the workers of the watcher's first reload serve alone.
  const { watcher, served } = await startWatcherBesideNginx(config, logger, { testCommand: nginx.testCommand, reloadCommand: nginx.reloadCommand });
  if (!served) throw new Error("nginx did not finish the watcher's first reload within 10 s");

  const stack: Stack = {
    dir,
    configFile,
    config,
    namespace,
    nginx,
    nginxPort,
    watcher,
    docker,
    childOutput: "",
    viaNginx: (host, requestPath = "/", requestOptions = {}) => request(nginxPort, { host, path: requestPath, ...requestOptions }),
    api: (method, apiPath, body) =>
      request(controllerPort, { method, path: apiPath, ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}) }),
    async startChild() {
      stack.child = execa("node", [CLI, "--config", configFile, "serve"], { reject: false, all: true, stdin: "ignore", ...(options.dockerHost ? { env: { DOCKER_HOST: options.dockerHost } } : {}) });
      stack.child.all?.on("data", (chunk: Buffer) => (stack.childOutput = (stack.childOutput + chunk.toString()).slice(-20_000)));
      await waitFor("the controller to answer", async () => (await request(controllerPort, { path: "/healthz" }).catch(() => undefined))?.status === 200, 20_000);
    },
    async close() {
      await stack.controller?.close();
      if (stack.child) {
        stack.child.kill("SIGKILL");
        await stack.child.catch(() => {});
      }
      await watcher.close();
      await nginx.close();
      await removeNamespace(docker, namespace);
      if (stack.config.runtime === "swarm") {
        const services = await docker.listServices({ filters: { label: [`demo-launcher.namespace=${namespace}`] } }).catch(() => []);
        await Promise.all(services.map((service: { ID: string }) => docker.getService(service.ID).remove().catch(() => {})));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (controller) stack.controller = controller;
  else if (controllerMode === "in-process") stack.controller = await startController(config, { logger, docker, ...options.controllerOptions });
  else if (options.controller === "child") await stack.startChild();
  return stack;
}

/** Removes the preview images a test's source left (by their repository name). */
export async function removePreviewImages(docker: Docker, source: string): Promise<void> {
  const images = await docker.listImages({ filters: { reference: [`${PREVIEW_IMAGE_REPO}/${source}`] } }).catch(() => []);
  for (const image of images) await docker.getImage(image.Id).remove({ force: true }).catch(() => {});
}

/**
 * Waits until the demo's route has left the starting gate (the controller's write at its next quiet moment): a test
 * that counts reloads or compares the routes file starts after it.
 */
export async function gateDropped(stack: Stack, host: string): Promise<void> {
  const text = await waitFor(`${host}'s route without the starting gate`, async () => {
    const current = await readFile(path.join(stack.config.nginx.configDir, "routes.conf"), "utf8").catch(() => "");
    return current.includes(host) && !current.includes(`${host} "${STARTING_GATE}"`) ? current : undefined;
  }, 30_000, 50);
  // ...and nginx serving that file: the watcher is done with it.
  const generation = Number(/^# generation (\d+)/m.exec(text)?.[1] ?? 0);
  await waitFor(`nginx to serve routes generation ${generation}`, async () => stack.watcher.currentStatus().appliedGeneration >= generation, 30_000, 20);
}

export async function launchAndWait(stack: Stack, app = "hello", expected: "ready" | "failed" = "ready", timeoutMs = 30_000): Promise<DemoView> {
  const answer = await stack.api("POST", "/api/demos", { app });
  if (answer.status !== 201) throw new Error(`launch answered ${answer.status}: ${answer.body}`);
  const { id } = JSON.parse(answer.body) as { id: string };
  // An in-process controller says when the demo moves on (its transition); a child one is asked over HTTP.
  if (stack.controller) {
    const movedOn = await stack.controller.engine.until(id, (demo) => demo?.status !== "starting" && demo?.status !== "queued", AbortSignal.timeout(timeoutMs));
    if (!movedOn) throw new Error(`demo ${id} was still starting after ${timeoutMs} ms`);
    const view = JSON.parse((await stack.api("GET", `/api/demos/${id}`)).body);
    if (view.status !== expected) throw new Error(`demo ${id} is ${view.status}, not ${expected}: ${view.reason ?? ""}`);
    return view;
  }
  return waitFor(`demo ${id} to be ${expected}`, async () => {
    const view = JSON.parse((await stack.api("GET", `/api/demos/${id}`)).body);
    if (view.status === expected) return view;
    if (view.status !== "starting") throw new GiveUp(`demo ${id} is ${view.status}: ${view.reason ?? ""}`);
    return undefined;
  }, timeoutMs);
}
