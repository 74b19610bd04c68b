// Which containers make up one instance of an environment (its routed container names the members it uses, some kept from the instance before), and what a service was created from, hashed.
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { isDemoVariable } from "../core/demos/demo-env.js";
import type { MountSpec } from "../core/environments/environment-spec.js";
import type { RunningService } from "../core/environments/keep-plan.js";
import { call } from "./engine-api.js";

/** Which service of its environment a container runs. */
export const SERVICE_LABEL = `${LABEL_PREFIX}service`;
/** "routed": the container the core knows as the instance's; "member": the environment's other services. */
export const ROLE_LABEL = `${LABEL_PREFIX}role`;
/** On a routed container: the members its instance uses, `service=container-name,…` (kept ones made by an earlier instance). */
export const MEMBERS_LABEL = `${LABEL_PREFIX}members`;
/** On a container of a further routed service: `name=hostPort,…`, where nginx reaches `<name>-<demo host>`. */
export const ROUTES_LABEL = `${LABEL_PREFIX}routes`;
/** On every service's container: what it was created from, hashed (a replacement keeps a member whose hash is unchanged). */
export const FINGERPRINT_LABEL = `${LABEL_PREFIX}service-config`;

export function membersLabel(members: Map<string, string>): string {
  return [...members].map(([service, name]) => `${service}=${name}`).join(",");
}

function memberNames(info: Docker.ContainerInfo): Set<string> {
  const label = info.Labels?.[MEMBERS_LABEL] ?? "";
  return new Set(label.split(",").filter(Boolean).map((entry) => entry.slice(entry.indexOf("=") + 1)));
}

function nameOf(info: Docker.ContainerInfo): string {
  return (info.Names?.[0] ?? "").replace(/^\//, "");
}

const instanceOf = (info: Docker.ContainerInfo) => info.Labels?.[`${LABEL_PREFIX}instance`];

/** Whether the routed container `routed` uses `member`: it made it, or it names it as kept. */
function uses(routed: Docker.ContainerInfo, member: Docker.ContainerInfo): boolean {
  return instanceOf(member) === instanceOf(routed) || memberNames(routed).has(nameOf(member));
}

/** Every container of the demo (all its instances, routed and members). */
export function demoContainers(docker: Docker, namespace: string, demoId: string): Promise<Docker.ContainerInfo[]> {
  return call(() => docker.listContainers({ all: true, filters: { label: [`${LABEL_PREFIX}namespace=${namespace}`, `${LABEL_PREFIX}id=${demoId}`] } }));
}

/** The containers of one instance out of its demo's: its routed container and the members it uses. */
export function containersOfInstance(containers: Docker.ContainerInfo[], instanceId: string): Docker.ContainerInfo[] {
  const routed = containers.find((info) => info.Labels?.[ROLE_LABEL] === "routed" && instanceOf(info) === instanceId);
  return containers.filter((info) => info === routed || (info.Labels?.[ROLE_LABEL] === "member" && (routed ? uses(routed, info) : instanceOf(info) === instanceId)));
}

/** The containers removing the instance removes: its own and its members no other instance of the demo uses. */
export function containersOnlyOf(containers: Docker.ContainerInfo[], instanceId: string): Docker.ContainerInfo[] {
  const others = containers.filter((info) => info.Labels?.[ROLE_LABEL] === "routed" && instanceOf(info) !== instanceId);
  return containersOfInstance(containers, instanceId).filter((info) => !others.some((routed) => uses(routed, info)));
}

/** Members that no routed container uses (a start killed half-way): removed at a listing. */
export function orphanMembers(containers: Docker.ContainerInfo[]): Docker.ContainerInfo[] {
  const routed = containers.filter((info) => info.Labels?.[ROLE_LABEL] === "routed");
  return containers.filter((info) => info.Labels?.[ROLE_LABEL] === "member" && !routed.some((owner) => owner.Labels?.[`${LABEL_PREFIX}id`] === info.Labels?.[`${LABEL_PREFIX}id`] && uses(owner, info)));
}

/** The demo's members a new instance could keep: those a routed container uses, newest first. */
export function runningServices(containers: Docker.ContainerInfo[]): RunningService[] {
  const routed = containers.filter((info) => info.Labels?.[ROLE_LABEL] === "routed");
  return containers
    .filter((info) => info.Labels?.[ROLE_LABEL] === "member" && routed.some((owner) => uses(owner, info)))
    .sort((a, b) => b.Created - a.Created)
    .map((info) => ({
      service: info.Labels?.[SERVICE_LABEL] ?? "",
      fingerprint: info.Labels?.[FINGERPRINT_LABEL] ?? "",
      containerName: nameOf(info),
      usable: info.State === "running" || (info.State === "exited" && /^Exited \(0\)/.test(info.Status ?? "")),
    }));
}

/**
 * What a service's container is created from, hashed: its image's id (an image rebuilt under the same tag counts as
 * changed), the options the file gives it, and the files copied in. Not its name, our labels or the demo's own
 * DEMO_* values: a new commit alone does not start a database again.
 */
export async function serviceFingerprint(docker: Docker, options: Docker.ContainerCreateOptions, projectRoot: string, mounts: MountSpec[]): Promise<string> {
  const image = (await call(() => docker.getImage(options.Image!).inspect())) as { Id: string };
  const env = (options.Env ?? []).filter((entry) => !isDemoVariable(entry));
  const labels = Object.fromEntries(Object.entries(options.Labels ?? {}).filter(([key]) => !key.startsWith(LABEL_PREFIX)));
  // Not the host port, nor the disk quota Docker may turn out not to hold (the runtime then creates without it).
  const { PortBindings: _ports, StorageOpt: _quota, ...host } = options.HostConfig ?? {};
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ image: image.Id, cmd: options.Cmd, entrypoint: options.Entrypoint, env, labels, workingDir: options.WorkingDir, user: options.User, hostname: options.Hostname, tty: options.Tty, stdin: options.OpenStdin, stopSignal: options.StopSignal, stopTimeout: options.StopTimeout, healthcheck: options.Healthcheck, host, networking: options.NetworkingConfig }));
  for (const mount of mounts) if (mount.kind === "copy") await hashPath(hash, path.join(projectRoot, mount.source), `${mount.target}:${mount.mode ?? ""}:${mount.readOnly}`);
  return hash.digest("hex").slice(0, 16);
}

async function hashPath(hash: ReturnType<typeof createHash>, file: string, as: string): Promise<void> {
  const stats = await stat(file).catch(() => undefined);
  hash.update(`\0${as}\0${stats ? stats.mode : "missing"}\0`);
  if (!stats) return;
  if (stats.isDirectory()) {
    for (const entry of (await readdir(file)).sort()) await hashPath(hash, path.join(file, entry), `${as}/${entry}`);
  } else if (stats.isFile()) hash.update(await readFile(file));
}

/** The further routed services' endpoints of each instance, from its containers' route labels: instance → name → endpoint. */
export function furtherRoutes(containers: Docker.ContainerInfo[]): Map<string, Record<string, string>> {
  const byInstance = new Map<string, Record<string, string>>();
  for (const info of containers) {
    const label = info.Labels?.[ROUTES_LABEL];
    const instance = instanceOf(info);
    if (!label || !instance) continue;
    const routes = byInstance.get(instance) ?? {};
    for (const entry of label.split(",")) {
      const [name, port] = entry.split("=");
      if (name && /^\d{1,5}$/.test(port ?? "")) routes[name] = `127.0.0.1:${port}`;
    }
    byInstance.set(instance, routes);
  }
  return byInstance;
}
