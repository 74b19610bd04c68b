// Environments as the runtime's instances: started whole, listed as their routed container, removed with every container, and their network and volumes when the demo has none left.
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { UnknownServiceError, type EnvironmentInstance, type InstanceSpec, type RuntimeState, type ServiceStatus } from "../core/runtime.js";
import { call, statusCode } from "./engine-api.js";
import { OBJECT_LABEL, removeEnvironmentLeftovers, startEnvironment, type ServiceContainerOptions } from "./environment.js";
import { containersOfInstance, containersOnlyOf, demoContainers, orphanMembers, ROLE_LABEL, SERVICE_LABEL } from "./environment-members.js";
import { healthSeen } from "./start-interval.js";

interface Owner {
  namespace: string;
  demoId: string;
  instanceId: string;
  /** A shared demo's replica: its network and volumes are its own (removed with it). */
  isolated: boolean;
}

export class EnvironmentInstances {
  /** Containers of environments (routed and members), as last listed or made. */
  private readonly owners = new Map<string, Owner>();

  /** `sweep`: this process owns the namespace (the controller), so it may remove leftovers; a read-only command never does. */
  constructor(private readonly docker: Docker, private readonly create: (options: Docker.ContainerCreateOptions) => Promise<Docker.Container>, private readonly sweep = false) {}

  /** Per instance: the stateful members of the instance before that its start stopped (started again if it is discarded). */
  private readonly stoppedFor = new Map<string, string[]>();

  async start(spec: InstanceSpec & { environment: EnvironmentInstance }, options: ServiceContainerOptions): Promise<string> {
    const { containerId, stopped } = await startEnvironment(this.docker, spec, { ...options, create: this.create });
    this.owners.set(containerId, { namespace: spec.namespace, demoId: spec.demoId, instanceId: spec.instanceId, isolated: spec.environment.isolated === true });
    if (stopped.length > 0) this.stoppedFor.set(spec.instanceId, stopped);
    return containerId;
  }

  /** The containers of the instance whose routed container this is (none when it is not an environment's). */
  private async containersOf(containerId: string): Promise<Docker.ContainerInfo[]> {
    const owner = this.owners.get(containerId);
    return owner ? containersOfInstance(await demoContainers(this.docker, owner.namespace, owner.demoId), owner.instanceId) : [];
  }

  owns(containerId: string): boolean {
    return this.owners.has(containerId);
  }

  /**
   * The containers the core sees: single ones and each environment's routed one. A member whose routed container is
   * gone (a start killed half-way) is removed here, with the demo's network and volumes once nothing of it is left.
   */
  /** Namespaces whose leftovers were looked for (once, at the first listing: a controller's start). */
  private readonly swept = new Set<string>();

  async listed(namespace: string, containers: Docker.ContainerInfo[]): Promise<Docker.ContainerInfo[]> {
    if (this.sweep && !this.swept.has(namespace)) {
      this.swept.add(namespace);
      await this.sweepLeftovers(namespace, containers).catch(() => {});
    }
    const listed: Docker.ContainerInfo[] = [];
    for (const info of containers) {
      const role = info.Labels?.[ROLE_LABEL];
      if (role) this.owners.set(info.Id, { namespace, demoId: info.Labels![`${LABEL_PREFIX}id`] ?? "", instanceId: info.Labels![`${LABEL_PREFIX}instance`] ?? "", isolated: info.Labels![`${LABEL_PREFIX}kind`] === "shared" });
      if (role !== "member") listed.push(info);
    }
    // Rare (only after a crash mid-start), and done before the listing is used: a reconcile then sees a clean host.
    for (const orphan of orphanMembers(containers)) await this.remove(orphan.Id).catch(() => {});
    return listed;
  }

  /**
   * Starts every container of the instance again, the others before the routed one (after a daemon restart stopped
   * them all; an idle preview woken): its services come back as they were, on their volumes.
   */
  async startAll(containerId: string): Promise<void> {
    const containers = await this.containersOf(containerId);
    if (containers.length === 0) return;
    const ordered = [...containers.filter((info) => info.Id !== containerId).map((info) => info.Id), containerId];
    for (const id of ordered) {
      try {
        await call(() => this.docker.getContainer(id).start());
      } catch (error) {
        if (statusCode(error) !== 304) throw error;
      }
    }
  }

  /** Stops every container of the instance (an idle preview): the routed one first, so nothing is served half. */
  async stopAll(containerId: string): Promise<void> {
    const containers = await this.containersOf(containerId);
    if (containers.length === 0) return;
    for (const id of [containerId, ...containers.filter((info) => info.Id !== containerId).map((info) => info.Id)]) {
      try {
        await call(() => this.docker.getContainer(id).stop({ t: 3 }));
      } catch (error) {
        if (statusCode(error) !== 304 && statusCode(error) !== 404) throw error;
      }
    }
  }

  /**
   * Networks and volumes of demos with no container left (a controller killed after making an environment's network
   * and before its first container): removed by their labels. Once per namespace, before any launch of this run.
   */
  private async sweepLeftovers(namespace: string, containers: Docker.ContainerInfo[]): Promise<void> {
    const live = new Set(containers.map((info) => info.Labels?.[`${LABEL_PREFIX}id`]));
    const liveInstances = new Set(containers.map((info) => info.Labels?.[`${LABEL_PREFIX}instance`]));
    const filters = { label: [`${LABEL_PREFIX}namespace=${namespace}`, OBJECT_LABEL] };
    const networks = (await call(() => this.docker.listNetworks({ filters }))) as Array<{ Labels?: Record<string, string> }>;
    const volumes = ((await call(() => this.docker.listVolumes({ filters }))) as { Volumes?: Array<{ Labels?: Record<string, string> }> }).Volumes ?? [];
    // A demo with no container left, or a shared demo's replica with none (the demo's other replicas run on).
    const orphaned = new Map<string, { demoId: string; instanceId?: string }>();
    for (const labels of [...networks, ...volumes].map((object) => object.Labels ?? {})) {
      const demoId = labels[`${LABEL_PREFIX}id`];
      const instanceId = labels[`${LABEL_PREFIX}instance`];
      if (demoId === undefined || (live.has(demoId) && (instanceId === undefined || liveInstances.has(instanceId)))) continue;
      orphaned.set(`${demoId}/${instanceId ?? ""}`, { demoId, ...(instanceId !== undefined ? { instanceId } : {}) });
    }
    for (const { demoId, instanceId } of orphaned.values()) await removeEnvironmentLeftovers(this.docker, namespace, demoId, instanceId);
  }

  /** Every service of the instance: Docker's state and the healthcheck's verdict (from the listing's status text). */
  async services(containerId: string): Promise<ServiceStatus[]> {
    const containers = await this.containersOf(containerId);
    return containers
      .map((info) => {
        const health = /\((healthy|unhealthy|health: starting)\)/.exec(info.Status ?? "")?.[1];
        return {
          service: info.Labels?.[SERVICE_LABEL] ?? "?",
          state: info.State as RuntimeState,
          ...(health ? { health: healthSeen(info.Id, health === "health: starting" ? "starting" : (health as "healthy" | "unhealthy")) } : {}),
          routed: info.Labels?.[ROLE_LABEL] === "routed",
        };
      })
      .sort((a, b) => a.service.localeCompare(b.service));
  }

  /** The container of one service of the instance whose routed container this is. */
  async serviceContainer(containerId: string, service: string): Promise<string> {
    const containers = await this.containersOf(containerId);
    const found = containers.find((info) => info.Labels?.[SERVICE_LABEL] === service);
    if (!found) throw new UnknownServiceError(service, containers.map((info) => info.Labels?.[SERVICE_LABEL] ?? "").filter(Boolean).sort());
    return found.Id;
  }

  /**
   * Every container of the instance no other instance of the demo uses (a replacement's new instance keeps the
   * database), then the demo's network and volumes if nothing of the demo is left.
   */
  async remove(containerId: string, forget: (containerId: string) => void = () => {}): Promise<void> {
    const owner = this.owners.get(containerId);
    if (!owner) return;
    const all = await demoContainers(this.docker, owner.namespace, owner.demoId);
    const containers = containersOnlyOf(all, owner.instanceId);
    const ids = new Set([containerId, ...containers.map((info) => info.Id)]);
    await Promise.all(
      [...ids].map(async (id) => {
        try {
          await call(() => this.docker.getContainer(id).remove({ force: true, v: true }));
        } catch (error) {
          if (statusCode(error) !== 404 && statusCode(error) !== 409) throw error;
        }
        this.owners.delete(id);
        forget(id);
      }),
    );
    // A replacement that failed after it stopped the database: the instance before gets it back. (Kept in memory
    // only: after a controller restart the instance's own restart policy, or the demo's end, takes it from there.)
    const stopped = this.stoppedFor.get(owner.instanceId) ?? [];
    this.stoppedFor.delete(owner.instanceId);
    for (const id of stopped) await call(() => this.docker.getContainer(id).start()).catch(() => {});
    // Nothing else of the demo was listed: its network and volumes go without asking Docker for containers again.
    const othersLeft = all.some((info) => !ids.has(info.Id));
    if (!othersLeft || owner.isolated) await removeEnvironmentLeftovers(this.docker, owner.namespace, owner.demoId, owner.isolated ? owner.instanceId : undefined, !othersLeft);
  }
}
