// An environment of several services on one Docker host: a network and volumes of the demo's own, a container per service started in depends_on order, every object labelled and removed only by its labels.
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { pack } from "tar-fs";
import { LABEL_PREFIX } from "../core/model.js";
import { describeError } from "../core/errors.js";
import type { EnvironmentInstance, InstanceSpec } from "../core/runtime.js";
import { cappedLimit, type MountSpec, type ServiceSpec } from "../core/environments/environment-spec.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import { call, statusCode } from "./engine-api.js";
import { hardenedHostConfig } from "./hardening.js";
import { awaitCondition } from "./service-conditions.js";
import { startProbeOf } from "./start-interval.js";
import { environmentBridgePrefix, type Egress } from "../firewall/rules.js";
import { planKeeps } from "../core/environments/keep-plan.js";
import { demoContainers, FINGERPRINT_LABEL, MEMBERS_LABEL, membersLabel, ROLE_LABEL, ROUTES_LABEL, runningServices, SERVICE_LABEL, serviceFingerprint } from "./environment-members.js";

/** On a network or volume: which of an environment's objects it is ("network", or the volume's name in the file). */
export const OBJECT_LABEL = `${LABEL_PREFIX}environment-object`;

/** The names of a demo's network and volumes: ours alone (a same-named object without our labels is never touched). */
export function environmentNames(namespace: string, demoId: string): { network: string; volume: (name: string) => string } {
  const base = `demo-launcher-${namespace}-${demoId}`;
  return { network: base, volume: (name) => `${base}-${name}` };
}

export interface ServiceContainerOptions {
  hardened: boolean;
  /** Docker can hold a container's writable layer to a size here. */
  quota: boolean;
  /** The routed service's host port on 127.0.0.1. */
  hostPort: number;
  portLabel: string;
  /** Further routed services (routes:), each with a host port of its own on 127.0.0.1. */
  extraRoutes?: ExtraRoute[];
}

export interface ExtraRoute {
  name: string;
  service: string;
  port: number;
  hostPort: number;
}

/** The Engine API options of one service's container. */
export function serviceContainerOptions(spec: InstanceSpec & { environment: EnvironmentInstance }, service: ServiceSpec, network: string, options: ServiceContainerOptions): Docker.ContainerCreateOptions {
  const routed = service.name === spec.environment.spec.routes[0]?.service;
  const portKey = `${spec.containerPort}/tcp`;
  const extra = (options.extraRoutes ?? []).filter((route) => route.service === service.name);
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {
    ...(routed ? { [portKey]: [{ HostIp: "127.0.0.1", HostPort: String(options.hostPort) }] } : {}),
    ...Object.fromEntries(extra.map((route) => [`${route.port}/tcp`, [{ HostIp: "127.0.0.1", HostPort: String(route.hostPort) }]])),
  };
  const names = environmentNames(spec.namespace, environmentKey(spec));
  // The app's limits are each service's default and its most: a file cannot ask for more than the operator gave.
  const memory = cappedLimit(service.limits.memory, spec.memoryBytes);
  const cpus = cappedLimit(service.limits.cpus, spec.cpus);
  const pids = cappedLimit(service.limits.pids, spec.pids);
  const capabilities = (spec.hardening?.capabilities ?? []).filter((cap) => !service.capDrop.includes(cap) && !service.capDrop.includes("ALL"));
  const hardening = { ...spec.hardening, ...(spec.hardening?.capabilities ? { capabilities } : {}), readOnly: service.readOnly ?? spec.hardening?.readOnly ?? false };
  const mounts = service.mounts.flatMap((mount): Docker.MountSettings[] => {
    if (mount.kind === "volume") return [{ Type: "volume", Source: names.volume(mount.volume), Target: mount.target, ReadOnly: mount.readOnly }];
    if (mount.kind === "tmpfs") return [{ Type: "tmpfs", Target: mount.target, ...(mount.sizeBytes ? { TmpfsOptions: { SizeBytes: mount.sizeBytes } } : {}) } as Docker.MountSettings];
    return [];
  });
  return {
    name: `demo-launcher-${spec.namespace}-${spec.instanceId}-${service.name}`,
    Image: service.image,
    // The file's labels first: ours (which it may not set) are the record of what runs.
    Labels: { ...service.labels, ...spec.labels, [SERVICE_LABEL]: service.name, [ROLE_LABEL]: routed ? "routed" : "member", ...(routed ? { [options.portLabel]: String(options.hostPort) } : {}), ...(extra.length > 0 ? { [ROUTES_LABEL]: extra.map((route) => `${route.name}=${route.hostPort}`).join(",") } : {}) },
    // The file's environment, under the operator's (the app's env) and the demo's own values.
    Env: Object.entries({ ...service.env, ...spec.env }).map(([key, value]) => `${key}=${value}`),
    ...(service.command ? { Cmd: service.command } : {}),
    ...(service.entrypoint ? { Entrypoint: service.entrypoint } : {}),
    ...(service.workingDir ? { WorkingDir: service.workingDir } : {}),
    ...(service.user ? { User: service.user } : {}),
    ...(service.hostname ? { Hostname: service.hostname } : {}),
    ...(service.tty ? { Tty: true } : {}),
    ...(service.stdinOpen ? { OpenStdin: true } : {}),
    ...(service.stopSignal ? { StopSignal: service.stopSignal } : {}),
    StopTimeout: Math.ceil((service.stopGraceMs ?? 3000) / 1000),
    ...healthcheckOptions(service),
    ...(Object.keys(bindings).length > 0 ? { ExposedPorts: Object.fromEntries(Object.keys(bindings).map((key) => [key, {}])) } : {}),
    HostConfig: {
      ...(Object.keys(bindings).length > 0 ? { PortBindings: bindings } : {}),
      NetworkMode: service.noNetwork ? "none" : network,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(cpus * 1e9),
      PidsLimit: pids,
      SecurityOpt: ["no-new-privileges:true"],
      Privileged: false,
      ...(options.hardened ? hardenedHostConfig(hardening, options.quota) : {}),
      ...(service.init !== undefined ? { Init: service.init } : {}),
      Mounts: mounts,
      LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
      // The routed service is watched by the controller (a crash ends or restarts the demo); the others keep their file's policy.
      RestartPolicy: { Name: routed || service.restart === "no" ? "no" : service.restart },
    },
    ...(service.noNetwork ? {} : { NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [service.name, ...service.aliases] } } } }),
  };
}

/** A service's healthcheck in the Engine API's terms (the same for a container and a Swarm service's container spec). */
export function healthcheckOptions(service: ServiceSpec): { Healthcheck?: Docker.ContainerCreateOptions["Healthcheck"] } {
  const ns = (ms: number | undefined) => (ms === undefined ? undefined : ms * 1_000_000);
  const health = service.healthcheck;
  if (service.healthcheckDisabled) return { Healthcheck: { Test: ["NONE"] } };
  if (!health) return {};
  return { Healthcheck: { ...(health.test.length ? { Test: health.test } : {}), Interval: ns(health.intervalMs), Timeout: ns(health.timeoutMs), Retries: health.retries, StartPeriod: ns(health.startPeriodMs), StartInterval: ns(health.startIntervalMs) } as Docker.ContainerCreateOptions["Healthcheck"] };
}

/** What names an environment's network and volumes: its demo, or for a shared demo's replica (a whole environment of its own, nothing kept) its instance. */
function environmentKey(spec: InstanceSpec & { environment: EnvironmentInstance }): string {
  return spec.environment.isolated ? spec.instanceId : spec.demoId;
}

/** The labels of a demo's environment objects (network, volumes; with `instanceId`, one shared-demo replica's). */
export function environmentObjectLabels(namespace: string, demoId: string, instanceId?: string): Record<string, string> {
  return { [`${LABEL_PREFIX}namespace`]: namespace, [`${LABEL_PREFIX}id`]: demoId, ...(instanceId !== undefined ? { [`${LABEL_PREFIX}instance`]: instanceId } : {}) };
}

/** Label filters for objects carrying all of `labels`. */
export function filterOf(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`);
}

/**
 * The demo's own network (or, `key` an instance's id, one replica's of a shared demo): inter-container traffic on
 * (its services talk by name), labelled as the demo's.
 */
export async function ensureEnvironmentNetwork(docker: Docker, namespace: string, key: string, labels: Record<string, string>, egress: Egress = "internet"): Promise<string> {
  const { network } = environmentNames(namespace, key);
  const existing = (await call(() => docker.listNetworks({ filters: { label: [...filterOf(labels), `${OBJECT_LABEL}=network`] } }))) as Array<{ Name: string }>;
  if (existing.some((entry) => entry.Name === network)) return network;
  try {
    // Its bridge is named under its policy's prefix: the host's rules for that prefix hold it from its first packet.
    const bridge = `${environmentBridgePrefix(egress)}${shortHash(`${namespace}/${key}`)}`;
    await call(() => docker.createNetwork({ Name: network, Driver: "bridge", CheckDuplicate: true, Options: { "com.docker.network.bridge.name": bridge }, Labels: { ...labels, [OBJECT_LABEL]: "network" } }));
  } catch (error) {
    // A network of that name that is not ours: refused rather than joined (it could be anybody's).
    if (statusCode(error) === 409) throw new Error(`a network named ${network} exists and is not this demo's; remove it or use another namespace`);
    throw error;
  }
  return network;
}

/** 8 letters and digits from a name: a bridge's suffix (interface names hold 15 characters). */
function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/** The demo's named volumes, made once and kept across its instances (a preview's database keeps its rows); a shared demo's replica has its own. */
export async function ensureEnvironmentVolumes(docker: Docker, namespace: string, key: string, volumes: string[], labels: Record<string, string>): Promise<void> {
  const names = environmentNames(namespace, key);
  const listed = (await call(() => docker.listVolumes({ filters: { label: filterOf(labels) } }))) as { Volumes?: Array<{ Name: string }> };
  const ours = new Set((listed.Volumes ?? []).map((volume) => volume.Name));
  for (const volume of volumes) {
    const name = names.volume(volume);
    if (ours.has(name)) continue;
    const found = await call(() => docker.getVolume(name).inspect()).catch((error: unknown) => (statusCode(error) === 404 ? undefined : Promise.reject(error)));
    if (found) throw new Error(`a volume named ${name} exists and is not this demo's; remove it or use another namespace`);
    await call(() => docker.createVolume({ Name: name, Labels: { ...labels, [OBJECT_LABEL]: volume } }));
  }
}

/** Files of the project copied into a created container (a bind mount of the repository, a secret, a config). */
export async function copyIntoContainer(container: Docker.Container, projectRoot: string, mounts: MountSpec[]): Promise<void> {
  for (const mount of mounts) {
    if (mount.kind !== "copy") continue;
    const source = path.join(projectRoot, mount.source);
    const target = mount.target.replace(/^\/+/, "");
    const stats = await stat(source).catch(() => undefined);
    // Compose makes a missing bind source an empty folder: one folder entry (the project's root, renamed), nothing in it.
    const stream = !stats
      ? pack(projectRoot, { ignore: (name) => name !== projectRoot, map: (header) => ({ ...header, name: target, mode: 0o755 }) })
      : stats.isDirectory()
        ? pack(source, { map: (header) => ({ ...header, name: path.posix.join(target, header.name), ...(mount.readOnly && header.type !== "directory" ? { mode: readOnlyMode(header.mode) } : {}) }) })
        : pack(path.dirname(source), { entries: [path.basename(source)], map: (header) => ({ ...header, name: target, mode: mount.mode ?? (mount.readOnly ? readOnlyMode(header.mode) : header.mode) }) });
    await call(() => container.putArchive(stream as unknown as NodeJS.ReadableStream, { path: "/" }), 60_000);
  }
}

/**
 * Read-only as a copy can be: no write bits, the rest kept (a script stays executable). Folders keep theirs, or
 * Docker could not extract the files into them; they are root's, so the app's own user still cannot write there.
 */
function readOnlyMode(mode: number | undefined): number {
  return (mode ?? 0o644) & 0o7555;
}

/**
 * Removes a demo's network and volumes once no container of it is left (with `instanceId`, a shared demo's
 * replica's once no container of that replica is); only what carries its labels (a network or volume of the same
 * name made by someone else stays).
 */
export async function removeEnvironmentLeftovers(docker: Docker, namespace: string, demoId: string, instanceId?: string, noContainerLeft = false): Promise<void> {
  if (instanceId !== undefined) await removeLeftovers(docker, [`${LABEL_PREFIX}namespace=${namespace}`, `${LABEL_PREFIX}id=${demoId}`, `${LABEL_PREFIX}instance=${instanceId}`], noContainerLeft);
  await removeLeftovers(docker, [`${LABEL_PREFIX}namespace=${namespace}`, `${LABEL_PREFIX}id=${demoId}`], noContainerLeft);
}

/** `noContainerLeft`: the caller just removed the last container it listed (a teardown need not ask Docker again). */
async function removeLeftovers(docker: Docker, labels: string[], noContainerLeft: boolean): Promise<void> {
  if (!noContainerLeft && (await call(() => docker.listContainers({ all: true, filters: { label: labels } }))).length > 0) return;
  // The network and the volumes do not wait for each other.
  await Promise.all([
    (async () => {
      const networks = (await call(() => docker.listNetworks({ filters: { label: [...labels, `${OBJECT_LABEL}=network`] } }))) as Array<{ Id: string }>;
      for (const network of networks) await call(() => docker.getNetwork(network.Id).remove()).catch(ignoreGone);
    })(),
    (async () => {
      const volumes = (await call(() => docker.listVolumes({ filters: { label: labels } }))) as { Volumes?: Array<{ Name: string }> };
      await Promise.all((volumes.Volumes ?? []).map((volume) => call(() => docker.getVolume(volume.Name).remove()).catch(ignoreGone)));
    })(),
  ]);
}

function ignoreGone(error: unknown): void {
  if (statusCode(error) === 404) return;
  throw new Error(`could not remove an environment's leftover: ${describeError(error)}`);
}

/**
 * Creates every service's container (the routed one first: the anchor a restarted controller finds, half-made or
 * not) and starts them in depends_on order, each once its dependencies are started, healthy or done. A demo's
 * earlier instance (a replacement, a preview's push) lends the new one every member it keeps (see planKeeps). On
 * any failure everything this start made is removed (the demo's volumes too when nothing of it is left) and the
 * stateful members it stopped start again. Returns the routed service's container and the members it stopped.
 */
export async function startEnvironment(docker: Docker, spec: InstanceSpec & { environment: EnvironmentInstance }, options: ServiceContainerOptions & { create(options: Docker.ContainerCreateOptions): Promise<Docker.Container> }): Promise<{ containerId: string; stopped: string[] }> {
  const { environment, namespace, demoId } = spec;
  const deadline = systemScheduler.now() + environment.startTimeoutMs;
  const key = environmentKey(spec);
  const objectLabels = environmentObjectLabels(namespace, demoId, environment.isolated ? spec.instanceId : undefined);
  const routedName = environment.spec.routes[0]!.service;
  const ids = new Map<string, string>();
  const made: string[] = [];
  const stopped: string[] = [];
  try {
    const network = await ensureEnvironmentNetwork(docker, namespace, key, objectLabels, spec.hardening?.egress);
    const [, existing] = await Promise.all([ensureEnvironmentVolumes(docker, namespace, key, environment.spec.volumes, objectLabels), environment.isolated ? [] : demoContainers(docker, namespace, demoId)]);
    const creates = await Promise.all(
      environment.spec.services.map(async (service) => {
        const create = serviceContainerOptions(spec, service, network, options);
        // A further routed service gets new host ports with each instance: it is never kept (one holding a volume is stopped first).
        const ports = (options.extraRoutes ?? []).filter((route) => route.service === service.name).map((route) => route.hostPort);
        return { service, create, fingerprint: `${await serviceFingerprint(docker, create, environment.projectRoot, service.mounts)}${ports.length > 0 ? `-${ports.join("-")}` : ""}` };
      }),
    );
    const plan = planKeeps(
      creates.map(({ service, fingerprint }) => ({ name: service.name, fingerprint, stateful: service.mounts.some((mount) => mount.kind === "volume"), routed: service.name === routedName, dependsOn: service.dependsOn })),
      existing.length > 0 ? runningServices(existing) : [],
    );
    const members = new Map(creates.filter(({ service }) => service.name !== routedName).map(({ service, create }) => [service.name, plan.keep.get(service.name)?.containerName ?? create.name!]));
    const idOf = (name: string) => existing.find((info) => info.Names?.[0] === `/${name}`)!.Id;
    for (const [name, kept] of plan.keep) ids.set(name, idOf(kept.containerName));
    const ordered = [...creates.filter(({ service }) => service.name === routedName), ...creates.filter(({ service }) => service.name !== routedName && !plan.keep.has(service.name))];
    for (const { service, create, fingerprint } of ordered) {
      const routed = service.name === routedName;
      const container = await options.create({ ...create, Labels: { ...create.Labels, [FINGERPRINT_LABEL]: fingerprint, ...(routed ? { [MEMBERS_LABEL]: membersLabel(members) } : {}) } });
      ids.set(service.name, container.id);
      made.push(container.id);
      await copyIntoContainer(container, environment.projectRoot, service.mounts);
    }
    for (const service of environment.spec.services) {
      if (plan.keep.has(service.name)) continue;
      for (const dependency of service.dependsOn) await awaitCondition(docker, ids.get(dependency.service)!, dependency.service, dependency.condition, deadline, startProbeOf(environment.spec.services.find((each) => each.name === dependency.service)));
      const previous = plan.stopFirst.get(service.name);
      if (previous) {
        stopped.push(idOf(previous.containerName));
        await call(() => docker.getContainer(idOf(previous.containerName)).stop({ t: Math.ceil((service.stopGraceMs ?? 3000) / 1000) })).catch((error: unknown) => (statusCode(error) === 304 ? undefined : Promise.reject(error)));
      }
      await call(() => docker.getContainer(ids.get(service.name)!).start()).catch((error: unknown) => {
        if (statusCode(error) === 304) return;
        throw new Error(`service ${service.name} could not start: ${describeError(error)}`, { cause: error });
      });
    }
    return { containerId: ids.get(routedName)!, stopped };
  } catch (error) {
    await Promise.all(made.map((id) => call(() => docker.getContainer(id).remove({ force: true })).catch(() => {})));
    // The instance before keeps serving on its own database.
    for (const id of stopped) await call(() => docker.getContainer(id).start()).catch(() => {});
    await removeEnvironmentLeftovers(docker, namespace, demoId, environment.isolated ? spec.instanceId : undefined).catch(() => {});
    throw error;
  }
}
