// Environments as the runtime's instances: started whole, listed as their routed container, removed with every container, and their network and volumes when the demo has none left.
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { UnknownServiceError, type EnvironmentInstance, type InstanceSpec, type RuntimeState, type ServiceStatus } from "../core/runtime.js";
import { call, statusCode } from "./engine-api.js";
import { instanceContainers, OBJECT_LABEL, removeEnvironmentLeftovers, ROLE_LABEL, SERVICE_LABEL, startEnvironment, type ServiceContainerOptions } from "./environment.js";

interface Owner {
  namespace: string;
  demoId: string;
  instanceId: string;
}

export class EnvironmentInstances {
  /** Containers of environments (routed and members), as last listed or made. */
  private readonly owners = new Map<string, Owner>();

  /** `sweep`: this process owns the namespace (the controller), so it may remove leftovers; a read-only command never does. */
  constructor(private readonly docker: Docker, private readonly create: (options: Docker.ContainerCreateOptions) => Promise<Docker.Container>, private readonly sweep = false) {}

  async start(spec: InstanceSpec & { environment: EnvironmentInstance }, options: ServiceContainerOptions): Promise<string> {
    const containerId = await startEnvironment(this.docker, spec, { ...options, create: this.create });
    this.owners.set(containerId, { namespace: spec.namespace, demoId: spec.demoId, instanceId: spec.instanceId });
    return containerId;
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
    const routed = new Set(containers.filter((info) => info.Labels?.[ROLE_LABEL] === "routed").map((info) => info.Labels![`${LABEL_PREFIX}instance`]));
    const listed: Docker.ContainerInfo[] = [];
    const orphans: string[] = [];
    for (const info of containers) {
      const role = info.Labels?.[ROLE_LABEL];
      if (role) this.owners.set(info.Id, { namespace, demoId: info.Labels![`${LABEL_PREFIX}id`] ?? "", instanceId: info.Labels![`${LABEL_PREFIX}instance`] ?? "" });
      if (role !== "member") listed.push(info);
      else if (!routed.has(info.Labels![`${LABEL_PREFIX}instance`])) orphans.push(info.Id);
    }
    // Rare (only after a crash mid-start), and done before the listing is used: a reconcile then sees a clean host.
    for (const orphan of orphans) await this.remove(orphan).catch(() => {});
    return listed;
  }

  /**
   * Starts every container of the instance again, the others before the routed one (after a daemon restart stopped
   * them all; an idle preview woken): its services come back as they were, on their volumes.
   */
  async startAll(containerId: string): Promise<void> {
    const owner = this.owners.get(containerId);
    if (!owner) return;
    const containers = await instanceContainers(this.docker, owner.namespace, owner.instanceId);
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
    const owner = this.owners.get(containerId);
    if (!owner) return;
    const containers = await instanceContainers(this.docker, owner.namespace, owner.instanceId);
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
    const filters = { label: [`${LABEL_PREFIX}namespace=${namespace}`, OBJECT_LABEL] };
    const networks = (await call(() => this.docker.listNetworks({ filters }))) as Array<{ Labels?: Record<string, string> }>;
    const volumes = ((await call(() => this.docker.listVolumes({ filters }))) as { Volumes?: Array<{ Labels?: Record<string, string> }> }).Volumes ?? [];
    const orphaned = new Set([...networks, ...volumes].map((object) => object.Labels?.[`${LABEL_PREFIX}id`]).filter((id): id is string => id !== undefined && !live.has(id)));
    for (const demoId of orphaned) await removeEnvironmentLeftovers(this.docker, namespace, demoId);
  }

  /** Every service of the instance: Docker's state and the healthcheck's verdict (from the listing's status text). */
  async services(containerId: string): Promise<ServiceStatus[]> {
    const owner = this.owners.get(containerId);
    if (!owner) return [];
    const containers = await instanceContainers(this.docker, owner.namespace, owner.instanceId);
    return containers
      .map((info) => {
        const health = /\((healthy|unhealthy|health: starting)\)/.exec(info.Status ?? "")?.[1];
        return {
          service: info.Labels?.[SERVICE_LABEL] ?? "?",
          state: info.State as RuntimeState,
          ...(health ? { health: health === "health: starting" ? ("starting" as const) : (health as "healthy" | "unhealthy") } : {}),
          routed: info.Labels?.[ROLE_LABEL] === "routed",
        };
      })
      .sort((a, b) => a.service.localeCompare(b.service));
  }

  /** The container of one service of the instance whose routed container this is. */
  async serviceContainer(containerId: string, service: string): Promise<string> {
    const owner = this.owners.get(containerId);
    const containers = owner ? await instanceContainers(this.docker, owner.namespace, owner.instanceId) : [];
    const found = containers.find((info) => info.Labels?.[SERVICE_LABEL] === service);
    if (!found) throw new UnknownServiceError(service, containers.map((info) => info.Labels?.[SERVICE_LABEL] ?? "").filter(Boolean).sort());
    return found.Id;
  }

  /** Every container of the instance, then the demo's network and volumes if nothing of the demo is left. */
  async remove(containerId: string, forget: (containerId: string) => void = () => {}): Promise<void> {
    const owner = this.owners.get(containerId);
    if (!owner) return;
    const containers = await instanceContainers(this.docker, owner.namespace, owner.instanceId);
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
    await removeEnvironmentLeftovers(this.docker, owner.namespace, owner.demoId);
  }
}
