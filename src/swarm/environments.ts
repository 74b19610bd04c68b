// Environments on a swarm: a Swarm service per Compose service on an overlay network of the demo's own, started in depends_on order, kept across replacements as on one host, removed by their labels.
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { describeError } from "../core/errors.js";
import { UnknownServiceError, type RuntimeState, type ServiceStatus } from "../core/runtime.js";
import type { ServiceSpec } from "../core/environments/environment-spec.js";
import { planKeeps } from "../core/environments/keep-plan.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import { call, statusCode } from "../docker/engine-api.js";
import { containersOfInstance, containersOnlyOf, FINGERPRINT_LABEL, MEMBERS_LABEL, membersLabel, orphanMembers, ROLE_LABEL, runningServices, SERVICE_LABEL } from "../docker/environment-members.js";
import { configName, copiedFiles, environmentServiceOptions, restartConditionOf, swarmServiceFingerprint, type EnvironmentSpecOf } from "./environment-services.js";
import { createConfig, ensureOverlayNetwork, orphanedObjects, removeEnvironmentObjects } from "./environment-objects.js";
import { environmentObjectLabels as objectLabelsOf } from "../docker/environment.js";
import type { SwarmTasks, Task } from "./tasks.js";
import type { RegistryImages } from "./registry.js";
import { healthSeen, startProbeOf } from "../docker/start-interval.js";

export interface SwarmService {
  ID: string;
  CreatedAt: string;
  Spec: { Name: string; Labels?: Record<string, string>; Mode?: { Replicated?: { Replicas?: number } }; TaskTemplate?: { ContainerSpec?: { Healthcheck?: { Test?: string[] } } } };
}

interface Owner {
  namespace: string;
  demoId: string;
  instanceId: string;
  isolated: boolean;
}

/** Creates the routed service on a port of the range its node has free (the runtime retries on another when none has). */
export type PlaceRouted = (options: (port: number) => Record<string, unknown>) => Promise<{ serviceId: string; endpoint: string }>;

export class SwarmEnvironments {
  /** Routed services and members by id, as last listed or made. */
  private readonly owners = new Map<string, Owner>();
  private readonly swept = new Set<string>();

  constructor(private readonly docker: Docker, private readonly tasks: SwarmTasks, private readonly images: RegistryImages, private readonly constraints: string[]) {}

  owns(serviceId: string): boolean {
    return this.owners.has(serviceId);
  }

  async start(spec: EnvironmentSpecOf, placeRouted: PlaceRouted): Promise<{ serviceId: string; endpoint: string }> {
    const { environment, namespace, demoId } = spec;
    const deadline = systemScheduler.now() + environment.startTimeoutMs;
    const key = environment.isolated ? spec.instanceId : demoId;
    const objectLabels = objectLabelsOf(namespace, demoId, environment.isolated ? spec.instanceId : undefined);
    const routedName = environment.spec.routes[0]!.service;
    const cut = environment.spec.services.find((service) => service.noNetwork);
    if (cut) throw new Error(`service ${cut.name}: network_mode: none is not available with runtime: swarm (every service joins its environment's overlay network)`);
    const made: string[] = [];
    const stopped: string[] = [];
    try {
      const network = await ensureOverlayNetwork(this.docker, namespace, key, objectLabels);
      const existing = environment.isolated ? [] : await this.demoServices(namespace, demoId);
      const runsOnce = new Set(environment.spec.services.flatMap((service) => service.dependsOn.filter((dependency) => dependency.condition === "service_completed_successfully").map((dependency) => dependency.service)));
      const prepared = await Promise.all(
        environment.spec.services.map(async (service) => {
          const image = await this.images.imageFor(service.image!);
          const imageId = ((await call(() => this.docker.getImage(service.image!).inspect()).catch(() => undefined)) as { Id?: string } | undefined)?.Id ?? image;
          const copies = await copiedFiles(environment.projectRoot, service);
          const input = { name: `demo-launcher-${namespace}-${spec.instanceId}-${service.name}`, image, network, labels: {}, constraints: [...this.constraints, ...(spec.constraints ?? []), ...(service.constraints ?? [])], configs: [], emptyFolders: copies.emptyFolders, restart: restartConditionOf(service, runsOnce.has(service.name)) };
          return { service, input, files: copies.files, fingerprint: swarmServiceFingerprint(environmentServiceOptions(spec, service, input), imageId, copies.files) };
        }),
      );
      const stateful = (service: ServiceSpec) => service.mounts.some((mount) => mount.kind === "volume");
      const plan = planKeeps(
        prepared.map(({ service, fingerprint }) => ({ name: service.name, fingerprint, stateful: stateful(service), routed: service.name === routedName, dependsOn: service.dependsOn })),
        existing.length > 0 ? runningServices(existing) : [],
      );
      const members = new Map(prepared.filter(({ service }) => service.name !== routedName).map(({ service, input }) => [service.name, plan.keep.get(service.name)?.containerName ?? input.name]));
      const idOf = (name: string) => existing.find((info) => info.Names[0] === `/${name}`)!.Id;
      const ids = new Map<string, string>([...plan.keep].map(([name, kept]) => [name, idOf(kept.containerName)]));
      // Volumes live on one node: every service holding one runs where the first of them (or the instance before's) runs.
      let volumeNode = await this.tasks.volumeNodeOf([...plan.keep.values(), ...plan.stopFirst.values()].filter((member) => stateful(prepared.find((entry) => entry.service.name === member.service)!.service)).map((member) => idOf(member.containerName)));
      let routed: { serviceId: string; endpoint: string } | undefined;
      for (const { service, input, files, fingerprint } of prepared) {
        if (plan.keep.has(service.name)) continue;
        for (const dependency of service.dependsOn) await this.tasks.awaitCondition(ids.get(dependency.service)!, dependency.service, dependency.condition, deadline, startProbeOf(prepared.find((entry) => entry.service.name === dependency.service)?.service));
        const previous = plan.stopFirst.get(service.name);
        if (previous) {
          stopped.push(idOf(previous.containerName));
          await this.scale(idOf(previous.containerName), 0);
          await this.tasks.awaitStopped(idOf(previous.containerName), service.name, deadline);
        }
        const configs = [];
        for (const file of files) {
          const name = configName(spec, service.name, file.target);
          configs.push({ id: await createConfig(this.docker, name, file.data, objectLabels), name, file });
        }
        const isRouted = service.name === routedName;
        const labels = { ...service.labels, ...spec.labels, [`${LABEL_PREFIX}runtime`]: "swarm", [SERVICE_LABEL]: service.name, [ROLE_LABEL]: isRouted ? "routed" : "member", [FINGERPRINT_LABEL]: fingerprint, ...(isRouted ? { [MEMBERS_LABEL]: membersLabel(members) } : {}) };
        const pinned = stateful(service) && volumeNode ? [`node.id==${volumeNode}`] : [];
        const full = { ...input, labels, configs, constraints: [...input.constraints, ...pinned] };
        if (isRouted) {
          routed = await placeRouted((port) => environmentServiceOptions(spec, service, { ...full, publishedPort: port }));
          ids.set(service.name, routed.serviceId);
          made.push(routed.serviceId);
        } else {
          const id = await this.createService(environmentServiceOptions(spec, service, full));
          ids.set(service.name, id);
          made.push(id);
        }
        for (const id of made) this.owners.set(id, { namespace, demoId, instanceId: spec.instanceId, isolated: environment.isolated === true });
        if (stateful(service) && !volumeNode) volumeNode = await this.tasks.placedNode(ids.get(service.name)!, service.name, deadline);
      }
      return routed!;
    } catch (error) {
      await Promise.all(made.map((id) => call(() => this.docker.getService(id).remove()).catch(() => {})));
      for (const id of made) this.owners.delete(id);
      for (const id of stopped) await this.scale(id, 1).catch(() => {});
      await removeEnvironmentObjects(this.docker, this.tasks, namespace, demoId, environment.isolated ? spec.instanceId : undefined).catch(() => {});
      throw error;
    }
  }

  private async createService(options: Record<string, unknown>): Promise<string> {
    const create = async () => ((await call(() => this.docker.createService(options as never))) as { id?: string; ID?: string }).id ?? "";
    try {
      return await create();
    } catch (error) {
      // Left by a start killed half-way, under the same instance's name.
      if (statusCode(error) !== 409) throw error;
      await call(() => this.docker.getService(options.Name as string).remove()).catch(() => {});
      return create();
    }
  }

  async scale(serviceId: string, replicas: number): Promise<void> {
    const service = this.docker.getService(serviceId);
    const current = (await call(() => service.inspect())) as { Version: { Index: number }; Spec: Record<string, unknown> };
    await call(() => service.update({ ...current.Spec, version: current.Version.Index, Mode: { Replicated: { Replicas: replicas } } } as never));
  }

  /** Every service of the demo as a container listing would show it (what the member bookkeeping of one host reads). */
  private async demoServices(namespace: string, demoId: string): Promise<Docker.ContainerInfo[]> {
    const services = (await call(() => this.docker.listServices({ filters: { label: [`${LABEL_PREFIX}namespace=${namespace}`, `${LABEL_PREFIX}id=${demoId}`] } }))) as SwarmService[];
    return this.asInfos(services);
  }

  private async asInfos(services: SwarmService[]): Promise<Docker.ContainerInfo[]> {
    const tasks = services.length > 0 ? await this.tasks.tasks({ service: services.map((service) => service.ID) }) : [];
    return services.map((service) => asInfo(service, tasks.find((task) => task.ServiceID === service.ID)));
  }

  /**
   * Of a listing of our services: members are the environments' own business (the core sees the routed one). At the
   * first listing of a run, members no routed service uses and objects of demos with no service (a start killed
   * half-way) are removed.
   */
  async listed(namespace: string, services: SwarmService[]): Promise<SwarmService[]> {
    for (const service of services) {
      const labels = service.Spec.Labels ?? {};
      if (labels[ROLE_LABEL]) this.owners.set(service.ID, { namespace, demoId: labels[`${LABEL_PREFIX}id`] ?? "", instanceId: labels[`${LABEL_PREFIX}instance`] ?? "", isolated: labels[`${LABEL_PREFIX}kind`] === "shared" });
    }
    if (!this.swept.has(namespace)) {
      this.swept.add(namespace);
      await this.sweep(namespace, services).catch(() => {});
    }
    return services.filter((service) => service.Spec.Labels?.[ROLE_LABEL] !== "member");
  }

  private async sweep(namespace: string, services: SwarmService[]): Promise<void> {
    const orphans = new Set(orphanMembers(await this.asInfos(services)).map((info) => info.Id));
    for (const id of orphans) await call(() => this.docker.getService(id).remove()).catch(() => {});
    const kept = services.filter((service) => !orphans.has(service.ID));
    const live = new Set(kept.map((service) => service.Spec.Labels?.[`${LABEL_PREFIX}id`] ?? ""));
    const liveInstances = new Set(kept.map((service) => service.Spec.Labels?.[`${LABEL_PREFIX}instance`] ?? ""));
    // Each waits for its tasks to be gone from their nodes: side by side, the controller's start waits for the slowest.
    await Promise.all((await orphanedObjects(this.docker, this.tasks, namespace, live, liveInstances)).map(({ demoId, instanceId }) => removeEnvironmentObjects(this.docker, this.tasks, namespace, demoId, instanceId).catch(() => {})));
  }

  /** The services of the instance whose routed service this is. */
  private async servicesOf(serviceId: string): Promise<Docker.ContainerInfo[]> {
    const owner = this.owners.get(serviceId);
    return owner ? containersOfInstance(await this.demoServices(owner.namespace, owner.demoId), owner.instanceId) : [];
  }

  async services(serviceId: string): Promise<ServiceStatus[]> {
    return (await this.servicesOf(serviceId))
      .map((info) => ({ service: info.Labels[SERVICE_LABEL] ?? "?", state: info.State as RuntimeState, ...(info.Status === "healthy" ? { health: "healthy" as const } : {}), routed: info.Labels[ROLE_LABEL] === "routed" }))
      .sort((a, b) => a.service.localeCompare(b.service));
  }

  /** The Swarm service of one service of the instance (logs, a restore's exec). */
  async serviceId(serviceId: string, service: string): Promise<string> {
    const services = await this.servicesOf(serviceId);
    const found = services.find((info) => info.Labels[SERVICE_LABEL] === service);
    if (!found) throw new UnknownServiceError(service, services.map((info) => info.Labels[SERVICE_LABEL] ?? "").filter(Boolean).sort());
    return found.Id;
  }

  /** Scales every service of the instance: down with the routed one first (nothing is served half), up with it last. */
  async scaleAll(serviceId: string, replicas: 0 | 1): Promise<void> {
    const others = (await this.servicesOf(serviceId)).map((info) => info.Id).filter((id) => id !== serviceId);
    for (const id of replicas === 0 ? [serviceId, ...others] : [...others, serviceId]) await this.scale(id, replicas).catch((error: unknown) => (statusCode(error) === 404 ? undefined : Promise.reject(error)));
  }

  /**
   * A member scaled down while a routed service that uses it runs (a replacement that stopped the database, then
   * failed or was undone, maybe by the next controller after a kill -9): scaled up again, so the instance before
   * serves on its own data. Read from Swarm, not remembered: it holds across restarts.
   */
  private async wakeUsedMembers(namespace: string, demoId: string): Promise<void> {
    const infos = await this.demoServices(namespace, demoId);
    const running = infos.filter((info) => info.Labels[ROLE_LABEL] === "routed" && info.Status !== SCALED_DOWN);
    const wanted = new Set(running.flatMap((routed) => containersOfInstance(infos, routed.Labels[`${LABEL_PREFIX}instance`] ?? "").filter((info) => info.Status === SCALED_DOWN).map((info) => info.Id)));
    for (const id of wanted) await this.scale(id, 1).catch(() => {});
  }

  /** Every service of the instance no other instance uses, then what is left of the demo's objects. */
  async remove(serviceId: string, forget: (id: string) => void = () => {}): Promise<void> {
    const owner = this.owners.get(serviceId);
    if (!owner) return;
    // One removal of a demo's instances at a time: two at once (a demo ended while its replaced instance drains) would
    // each see the other still using a kept member, and neither would remove it.
    const key = `${owner.namespace}/${owner.demoId}`;
    const removal = (this.removals.get(key) ?? Promise.resolve()).then(() => this.removeNow(serviceId, owner, forget));
    const settled = removal.catch(() => {});
    this.removals.set(key, settled);
    void settled.then(() => {
      if (this.removals.get(key) === settled) this.removals.delete(key);
    });
    return removal;
  }

  /** Removals of each demo, chained (see remove). */
  private readonly removals = new Map<string, Promise<void>>();

  private async removeNow(serviceId: string, owner: Owner, forget: (id: string) => void): Promise<void> {
    const all = await this.demoServices(owner.namespace, owner.demoId);
    const ids = new Set([serviceId, ...containersOnlyOf(all, owner.instanceId).map((info) => info.Id)]);
    await Promise.all([...ids].map(async (id) => {
      await call(() => this.docker.getService(id).remove()).catch((error: unknown) => (statusCode(error) === 404 ? undefined : Promise.reject(error)));
      this.owners.delete(id);
      forget(id);
    }));
    await this.wakeUsedMembers(owner.namespace, owner.demoId);
    await removeEnvironmentObjects(this.docker, this.tasks, owner.namespace, owner.demoId, owner.isolated ? owner.instanceId : undefined).catch((error: unknown) => {
      throw new Error(`the demo's services are gone, but not all its objects: ${describeError(error)}`);
    });
  }
}

/** The listing status of a service scaled to no replica (stopped by a replacement, or an idle preview). */
const SCALED_DOWN = "scaled down";

/**
 * A service in the terms of a container listing: the one-host bookkeeping of members reads these fields. Swarm's
 * `starting` (its container runs, its healthcheck has not passed yet) is what one host lists as running with
 * "health: starting" (healthy once the controller's start probe passed in its container): a replacement keeps it.
 */
function asInfo(service: SwarmService, task: Task | undefined): Docker.ContainerInfo {
  const scaledDown = service.Spec.Mode?.Replicated?.Replicas === 0;
  const taskState = task?.Status.State;
  const state = scaledDown ? "exited" : taskState === "running" || taskState === "starting" ? "running" : taskState === "complete" ? "exited" : "created";
  const checked = (service.Spec.TaskTemplate?.ContainerSpec?.Healthcheck?.Test?.[0] ?? "NONE") !== "NONE";
  const probed = taskState === "starting" && healthSeen(task?.Status.ContainerStatus?.ContainerID ?? "", "starting") === "healthy";
  const healthy = checked && (taskState === "running" || probed);
  const status = scaledDown ? SCALED_DOWN : taskState === "complete" ? "Exited (0)" : healthy ? "healthy" : taskState === "starting" ? "health: starting" : state;
  return { Id: service.ID, Names: [`/${service.Spec.Name}`], Labels: service.Spec.Labels ?? {}, Created: Date.parse(service.CreatedAt) / 1000, State: state, Status: status } as unknown as Docker.ContainerInfo;
}
