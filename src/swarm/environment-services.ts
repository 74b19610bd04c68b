// One service of an environment as a Swarm service: its spec (on the environment's overlay network, limits capped by the app's), its copied files as Swarm configs, and what it was made from, hashed.
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { LABEL_PREFIX } from "../core/model.js";
import { isDemoVariable } from "../core/demos/demo-env.js";
import type { EnvironmentInstance, InstanceSpec } from "../core/runtime.js";
import { cappedLimit, type ServiceSpec } from "../core/environments/environment-spec.js";
import { hardenedSwarmContainerSpec } from "../docker/hardening.js";
import { environmentNames, environmentObjectLabels, healthcheckOptions, OBJECT_LABEL } from "../docker/environment.js";

export type EnvironmentSpecOf = InstanceSpec & { environment: EnvironmentInstance };

/** A file the service gets from the project: a Swarm config mounted at its target (configs are how Swarm ships files to any node). */
export interface CopiedFile {
  target: string;
  mode: number;
  data: Buffer;
}

/** The files a service copies in (each file of a copied folder is one), and the folders that were missing (Compose makes them empty: a tmpfs here). */
export async function copiedFiles(projectRoot: string, service: ServiceSpec): Promise<{ files: CopiedFile[]; emptyFolders: string[] }> {
  const files: CopiedFile[] = [];
  const emptyFolders: string[] = [];
  const walk = async (source: string, target: string, mount: { readOnly: boolean; mode?: number }): Promise<void> => {
    const stats = await stat(source).catch(() => undefined);
    if (!stats) return;
    if (stats.isDirectory()) {
      for (const entry of (await readdir(source)).sort()) await walk(path.join(source, entry), path.posix.join(target, entry), { readOnly: mount.readOnly });
      return;
    }
    // Swarm refuses an empty config: an empty file of a copied folder (a .gitkeep) is left out. A config is read-only
    // whatever the mount says: its mode keeps no write bits.
    if (!stats.isFile() || stats.size === 0) return;
    files.push({ target, mode: mount.mode ?? (stats.mode & 0o7555), data: await readFile(source) });
  };
  for (const mount of service.mounts) {
    if (mount.kind !== "copy") continue;
    const source = path.join(projectRoot, mount.source);
    const target = path.posix.join("/", mount.target);
    if (!(await stat(source).catch(() => undefined))) emptyFolders.push(target);
    else await walk(source, target, mount);
  }
  return { files, emptyFolders };
}

/** A config's name: per instance, service and target, so a kept member's configs are never replaced under it. */
export function configName(spec: EnvironmentSpecOf, service: string, target: string): string {
  return `demo-launcher-${spec.namespace}-${spec.instanceId}-${service}-${createHash("sha256").update(target).digest("hex").slice(0, 10)}`;
}

/** Swarm's restart conditions from Compose's: a service others wait to finish runs once; the rest are started again when they end, as `docker stack deploy` does. */
export function restartConditionOf(service: ServiceSpec, runsOnce: boolean): "none" | "on-failure" | "any" {
  if (service.restart === "on-failure") return "on-failure";
  if (service.restart === "no" && runsOnce) return "none";
  return "any";
}

export interface ServiceInput {
  name: string;
  /** The image as every node can pull it (pushed to the swarm's registry). */
  image: string;
  network: string;
  labels: Record<string, string>;
  constraints: string[];
  configs: Array<{ id: string; name: string; file: CopiedFile }>;
  emptyFolders: string[];
  restart: "none" | "on-failure" | "any";
  /** The routed service's port on its node (host mode); the others publish nothing. */
  publishedPort?: number;
}

/** The Engine API's service spec of one environment service. */
export function environmentServiceOptions(spec: EnvironmentSpecOf, service: ServiceSpec, input: ServiceInput): Record<string, unknown> {
  const key = spec.environment.isolated ? spec.instanceId : spec.demoId;
  const names = environmentNames(spec.namespace, key);
  const objectLabels = environmentObjectLabels(spec.namespace, spec.demoId, spec.environment.isolated ? spec.instanceId : undefined);
  const capabilities = (spec.hardening?.capabilities ?? []).filter((cap) => !service.capDrop.includes(cap) && !service.capDrop.includes("ALL"));
  const hardening = { ...spec.hardening, ...(spec.hardening?.capabilities ? { capabilities } : {}), readOnly: service.readOnly ?? spec.hardening?.readOnly ?? false };
  const hardened = hardenedSwarmContainerSpec(hardening) as { Mounts?: unknown[] };
  const mounts = [
    ...(hardened.Mounts ?? []),
    ...service.mounts.flatMap((mount): Array<Record<string, unknown>> => {
      if (mount.kind === "volume") return [{ Type: "volume", Source: names.volume(mount.volume), Target: mount.target, ReadOnly: mount.readOnly, VolumeOptions: { Labels: { ...objectLabels, [OBJECT_LABEL]: mount.volume } } }];
      if (mount.kind === "tmpfs") return [{ Type: "tmpfs", Target: mount.target, ...(mount.sizeBytes ? { TmpfsOptions: { SizeBytes: mount.sizeBytes } } : {}) }];
      return [];
    }),
    ...input.emptyFolders.map((target) => ({ Type: "tmpfs", Target: target })),
  ];
  const routed = input.publishedPort !== undefined;
  return {
    Name: input.name,
    Labels: input.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: input.image,
        Labels: input.labels,
        Env: Object.entries({ ...service.env, ...spec.env }).map(([name, value]) => `${name}=${value}`),
        // Swarm's Command is the entrypoint, its Args the command.
        ...(service.entrypoint ? { Command: service.entrypoint } : {}),
        ...(service.command ? { Args: service.command } : {}),
        ...(service.workingDir ? { Dir: service.workingDir } : {}),
        ...(service.user ? { User: service.user } : {}),
        ...(service.hostname ? { Hostname: service.hostname } : {}),
        ...(service.tty ? { TTY: true } : {}),
        ...(service.stdinOpen ? { OpenStdin: true } : {}),
        ...(service.stopSignal ? { StopSignal: service.stopSignal } : {}),
        ...(service.init !== undefined ? { Init: service.init } : {}),
        StopGracePeriod: (service.stopGraceMs ?? 3000) * 1_000_000,
        ...healthcheckOptions(service),
        Privileges: { NoNewPrivileges: true },
        ...hardened,
        Mounts: mounts,
        Configs: input.configs.map((config) => ({ File: { Name: config.file.target, UID: "0", GID: "0", Mode: config.file.mode }, ConfigID: config.id, ConfigName: config.name })),
      },
      Resources: { Limits: { MemoryBytes: cappedLimit(service.limits.memory, spec.memoryBytes), NanoCPUs: Math.round(cappedLimit(service.limits.cpus, spec.cpus) * 1e9), Pids: cappedLimit(service.limits.pids, spec.pids) } },
      RestartPolicy: { Condition: input.restart, Delay: 1_000_000_000, MaxAttempts: 0 },
      Placement: { Constraints: input.constraints, Preferences: [{ Spread: { SpreadDescriptor: "node.id" } }] },
      Networks: [{ Target: input.network, Aliases: [service.name, ...service.aliases] }],
      LogDriver: { Name: "json-file", Options: { "max-size": "1m", "max-file": "2" } },
    },
    Mode: { Replicated: { Replicas: 1 } },
    // No routing mesh and no virtual IP: services find each other by name (DNS round robin), nginx the routed one on its node.
    EndpointSpec: { Mode: "dnsrr", Ports: routed ? [{ Protocol: "tcp", TargetPort: spec.containerPort, PublishedPort: input.publishedPort, PublishMode: "host" }] : [] },
  };
}

/**
 * What a service is made from, hashed: its image's id, its spec without our labels, the demo's own DEMO_* values,
 * its name or port, and its copied files' content. A replacement keeps a member whose hash is unchanged.
 */
export function swarmServiceFingerprint(options: Record<string, unknown>, imageId: string, files: CopiedFile[]): string {
  const template = options.TaskTemplate as { ContainerSpec: Record<string, unknown> & { Env: string[] } } & Record<string, unknown>;
  const { Image: _image, Labels: _labels, Configs: _configs, ...container } = template.ContainerSpec;
  const env = container.Env.filter((entry) => !isDemoVariable(entry));
  const fileLabels = Object.fromEntries(Object.entries((options.Labels as Record<string, string>) ?? {}).filter(([key]) => !key.startsWith(LABEL_PREFIX)));
  const hash = createHash("sha256").update(JSON.stringify({ imageId, container: { ...container, Env: env }, fileLabels, resources: template.Resources, restart: template.RestartPolicy, placement: template.Placement, networks: template.Networks }));
  for (const file of files) hash.update(`\0${file.target}\0${file.mode}\0`).update(file.data);
  return hash.digest("hex").slice(0, 16);
}
