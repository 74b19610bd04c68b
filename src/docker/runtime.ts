// The ContainerRuntime on the Docker Engine API (dockerode): demos bound to 127.0.0.1, limited and isolated.
import Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { describeError } from "../core/errors.js";
import { PlacementError, PortTakenError, type ContainerEvents, type ContainerFile, type ContainerInspection, type ContainerRuntime, type ExecResult, type ExecSpec, type InstanceSpec, type RuntimeContainer, type RuntimeState, type ServiceStatus, type StartedInstance } from "../core/runtime.js";
import { pickCandidatePorts, type PortRange } from "./ports.js";
import { demultiplex, execInContainer } from "./exec.js";
import { commitContainer } from "./commit.js";
import { copyFileIn, copyFileOut } from "./container-files.js";
import { call, CALL_TIMEOUT_MS, CREATE_TIMEOUT_MS, statusCode } from "./engine-api.js";

// The Engine API helpers live in engine-api.ts; many modules import them from here.
export { assertDockerReachable, call, connectDocker, isDockerUnavailable, statusCode } from "./engine-api.js";
export { ensureBridgeNetwork } from "./bridge-network.js";
import { ensureBridgeNetwork } from "./bridge-network.js";
import { ContainerCreator } from "./container-creator.js";
import { singleContainerOptions } from "./container-options.js";
import { EnvironmentInstances } from "./environment-instances.js";
import { furtherRoutes } from "./environment-members.js";
import type { ExtraRoute } from "./environment.js";
import { ImagePuller } from "./pull.js";
import type { PullProgress } from "../core/runtime.js";
import { watchContainerEvents } from "./container-events.js";
import { egressNetworkName } from "../firewall/rules.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import { Slots } from "../core/slots.js";

import { PORT_LABEL } from "./container-options.js";
import { DEFAULT_STARTS, type DockerPlacement } from "./placement.js";
export { PORT_LABEL };
export { DEFAULT_STARTS, type DockerPlacement } from "./placement.js";
/** Tries before a launch gives up on finding a free host port (each taken port is a quick refusal). */
const PORT_ATTEMPTS = 20;

/** Thrown when the host port was taken between our choice and Docker's bind. */
class PortConflictError extends Error {}

const PORT_CONFLICT = /port is already allocated|address already in use/i;

/** Containers on this Docker host, each bound to a loopback port it picks from the range: its endpoint. */
export class DockerRuntime implements ContainerRuntime {
  private readonly readyNetworks = new Set<string>();
  /** Images seen recently: a launch need not ask Docker again (a removed image fails the create anyway). */
  private readonly knownImages = new Map<string, number>();
  /** Host ports of our containers as last seen, so a choice rarely meets a taken one. */
  private readonly portsByContainer = new Map<string, number>();
  /** An environment's further routed services' host ports, by its routed container. */
  private readonly extraPorts = new Map<string, number[]>();

  /** Environments of several services: started, listed and removed as one instance each. */
  private readonly environments: EnvironmentInstances;
  private readonly puller: ImagePuller;
  private readonly creator: ContainerCreator;
  /** Creates and starts of single containers in flight (see DockerPlacement.starts). */
  readonly starts: Slots;

  constructor(private readonly docker: Docker, private readonly placement: DockerPlacement = { network: "demo-launcher", ports: { from: 20000, to: 29999 } }) {
    this.creator = new ContainerCreator(docker, (name) => this.remove(name));
    this.environments = new EnvironmentInstances(docker, (options) => this.creator.createNamed(options), placement.sweepLeftovers === true);
    this.puller = new ImagePuller(docker, placement.registries);
    this.starts = new Slots(placement.starts ?? DEFAULT_STARTS);
  }

  async services(containerId: string): Promise<ServiceStatus[]> {
    return this.environments.owns(containerId) ? this.environments.services(containerId) : [];
  }

  /** Told of every image a launch pulled onto the host (the image keeper removes unused ones after a while). */
  set onPulled(listener: ((image: string) => void) | undefined) { this.puller.onPulled = listener; }

  pullImage(image: string, onProgress?: (progress: PullProgress) => void): Promise<void> {
    return this.puller.pull(image, onProgress);
  }

  /** A dedicated bridge with inter-container traffic off, so one demo cannot reach another. */
  async ensureNetwork(name: string): Promise<void> {
    if (this.readyNetworks.has(name)) return;
    await ensureBridgeNetwork(this.docker, name);
    this.readyNetworks.add(name);
  }

  /** Picks a port and starts the container, choosing again when the port was taken meanwhile. */
  async createAndStart(spec: InstanceSpec): Promise<StartedInstance> {
    const busy = new Set<number>();
    const further = spec.environment?.spec.routes.slice(1) ?? [];
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt += 1) {
      const taken = new Set([...this.portsByContainer.values(), ...[...this.extraPorts.values()].flat(), ...busy]);
      // The routed service's port, then one per further routed service (routes:).
      const ports = pickCandidatePorts(this.placement.ports, taken, further.length + 1);
      if (!ports) break;
      const [port, ...extra] = ports as [number, ...number[]];
      const extraRoutes = further.map((route, index) => ({ name: route.name ?? route.service, service: route.service, port: route.port, hostPort: extra[index]! }));
      try {
        // An environment waits for its services' health too: its own start timeout bounds it, not one call's.
        // A single container waits for a start slot outside the call's time limit: a line is not an outage.
        const once = () => call(() => this.createAndStartOnce(spec, port, extraRoutes), CREATE_TIMEOUT_MS + (spec.environment?.startTimeoutMs ?? 0));
        const containerId = spec.environment ? await once() : await this.starts.run(once);
        this.portsByContainer.set(containerId, port);
        if (extra.length > 0) this.extraPorts.set(containerId, extra);
        return { containerId, endpoint: `127.0.0.1:${port}`, ...(extraRoutes.length > 0 ? { routes: Object.fromEntries(extraRoutes.map((route) => [route.name, `127.0.0.1:${route.hostPort}`])) } : {}) };
      } catch (error) {
        if (!(error instanceof PortConflictError)) throw error;
        // Someone else bound one of them between our choice and Docker's bind: choose again.
        for (const chosen of ports) busy.add(chosen);
      }
    }
    throw new PlacementError("no free host port is left in the configured range");
  }

  get diskMode(): "quota" | "watched" | "unknown" {
    return this.creator.diskMode;
  }

  /** Creates (never starts) a single-container demo bound, once started, to this loopback port. */
  private async createSingle(spec: InstanceSpec, hostPort: number): Promise<string> {
    // Demos with another egress policy than `internet` live on a sibling network that carries its own rules.
    const hardened = this.placement.hardened !== false;
    const network = hardened ? egressNetworkName(this.placement.network, spec.hardening?.egress ?? "internet") : this.placement.network;
    await this.ensureNetwork(network);
    const options = singleContainerOptions(spec, hostPort, network, hardened, this.creator.quota !== false);
    return (await this.creator.createNamed(options)).id;
  }

  private async createAndStartOnce(spec: InstanceSpec, hostPort: number, extraRoutes: ExtraRoute[] = []): Promise<string> {
    if (spec.environment) {
      try {
        return await this.environments.start({ ...spec, environment: spec.environment }, { hardened: this.placement.hardened !== false, quota: this.creator.quota !== false, hostPort, portLabel: PORT_LABEL, extraRoutes });
      } catch (error) {
        if (PORT_CONFLICT.test(describeError(error))) throw new PortConflictError(describeError(error));
        throw error;
      }
    }
    const containerId = await this.createSingle(spec, hostPort);
    const container = this.docker.getContainer(containerId);
    try {
      await container.start();
    } catch (error) {
      await this.remove(containerId).catch(() => {});
      const message = describeError(error);
      if (PORT_CONFLICT.test(message)) throw new PortConflictError(message);
      throw error;
    }
    return containerId;
  }

  /** Creates a single container with its port chosen but not bound (Docker binds at start): see ContainerRuntime.prepare. */
  async prepare(spec: InstanceSpec, ahead = false): Promise<StartedInstance> {
    if (spec.environment) throw new Error("an environment of several services is started at once, not prepared");
    const taken = new Set([...this.portsByContainer.values(), ...[...this.extraPorts.values()].flat()]);
    const [port] = pickCandidatePorts(this.placement.ports, taken, 1) ?? [];
    if (port === undefined) throw new PlacementError("no free host port is left in the configured range");
    const containerId = await this.starts.run(() => call(() => this.createSingle(spec, port), CREATE_TIMEOUT_MS), ahead ? "later" : "now");
    // Held from now on: no other demo is given this port while the container waits.
    this.portsByContainer.set(containerId, port);
    return { containerId, endpoint: `127.0.0.1:${port}` };
  }

  async startPrepared(containerId: string): Promise<void> {
    try {
      await this.starts.run(() => call(() => this.docker.getContainer(containerId).start(), CREATE_TIMEOUT_MS));
    } catch (error) {
      if (statusCode(error) === 304) return; // started already
      const message = describeError(error);
      if (!PORT_CONFLICT.test(message)) throw error;
      await this.remove(containerId).catch(() => {});
      throw new PortTakenError(message);
    }
  }

  async list(namespace: string): Promise<RuntimeContainer[]> {
    const containers = await call(() => this.docker.listContainers({ all: true, filters: { label: [`${LABEL_PREFIX}namespace=${namespace}`] } }));
    this.portsByContainer.clear();
    this.extraPorts.clear();
    // Further routed services (routes:) answer on ports their own containers carry: `name=port`, by instance.
    const routesOf = furtherRoutes(containers);
    // An environment is one instance to the core: its routed container (see EnvironmentInstances.listed).
    const listed = await this.environments.listed(namespace, containers);
    return listed.map((info) => {
      const port = Number(info.Labels?.[PORT_LABEL]);
      const valid = Number.isInteger(port) && port > 0 && port <= 65535;
      if (valid) this.portsByContainer.set(info.Id, port);
      const routes = routesOf.get(info.Labels?.[`${LABEL_PREFIX}instance`] ?? "");
      if (routes) this.extraPorts.set(info.Id, Object.values(routes).map((endpoint) => Number(endpoint.split(":")[1])));
      return { containerId: info.Id, labels: info.Labels ?? {}, state: info.State as RuntimeState, ...(valid ? { endpoint: `127.0.0.1:${port}` } : {}), ...(routes ? { routes } : {}) };
    });
  }

  async inspect(containerId: string): Promise<ContainerInspection | undefined> {
    try {
      const info = await call(() => this.docker.getContainer(containerId).inspect());
      return { state: info.State.Status as RuntimeState, exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled };
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  async remove(containerId: string): Promise<void> {
    if (this.environments.owns(containerId)) {
      this.extraPorts.delete(containerId);
      return this.environments.remove(containerId, (id) => this.portsByContainer.delete(id));
    }
    try {
      await call(() => this.docker.getContainer(containerId).remove({ force: true, v: true }));
      this.portsByContainer.delete(containerId);
    } catch (error) {
      // 404: already gone; 409: removal already in progress. Both end where we want to be.
      if (statusCode(error) === 404 || statusCode(error) === 409) return;
      throw error;
    }
  }

  async stop(containerId: string): Promise<void> {
    if (this.environments.owns(containerId)) return this.environments.stopAll(containerId);
    try {
      // An idle preview's app gets a moment to shut down cleanly; it is woken by `restart`.
      await call(() => this.docker.getContainer(containerId).stop({ t: 3 }));
    } catch (error) {
      if (statusCode(error) === 304) return; // stopped already
      throw error;
    }
  }

  async logTail(containerId: string, lines: number, service?: string): Promise<string> {
    const target = await this.serviceOf(containerId, service);
    try {
      const buffer = (await this.docker.getContainer(target).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
      return demultiplex(buffer).trim();
    } catch {
      return "";
    }
  }

  async imageExists(image: string): Promise<boolean> {
    if ((this.knownImages.get(image) ?? 0) > systemScheduler.now()) return true;
    try {
      await call(() => this.docker.getImage(image).inspect());
      this.knownImages.set(image, systemScheduler.now() + 60_000);
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw error;
    }
  }

  async commit(containerId: string, image: string, labels: Record<string, string>): Promise<void> {
    await call(() => commitContainer(this.docker, containerId, image, labels), 300_000);
    this.knownImages.delete(image);
  }

  async exec(containerId: string, spec: ExecSpec): Promise<ExecResult> {
    const target = await this.serviceOf(containerId, spec.service);
    return call(() => execInContainer(this.docker, target, spec), spec.timeoutMs + CALL_TIMEOUT_MS);
  }

  async writeFile(containerId: string, file: ContainerFile & { content: Buffer }): Promise<void> {
    await copyFileIn(this.docker, await this.serviceOf(containerId, file.service), file);
  }

  async readFile(containerId: string, file: ContainerFile & { maxBytes: number }): Promise<Buffer> {
    return copyFileOut(this.docker, await this.serviceOf(containerId, file.service), file);
  }

  /** The container of an environment's service (the instance's own container without one). */
  private serviceOf(containerId: string, service: string | undefined): Promise<string> {
    return service === undefined ? Promise.resolve(containerId) : this.environments.serviceContainer(containerId, service);
  }

  async restart(containerId: string): Promise<void> {
    if (this.environments.owns(containerId)) return this.environments.startAll(containerId);
    try {
      await call(() => this.docker.getContainer(containerId).start());
    } catch (error) {
      // 304: it is running already, which is what we wanted.
      if (statusCode(error) === 304) return;
      throw error;
    }
  }

  /** Follows this namespace's container deaths and removals (see watchContainerEvents); networks are checked again after a break. */
  watchContainers(namespace: string, listener: ContainerEvents): () => void {
    return watchContainerEvents(this.docker, namespace, {
      ...listener,
      lost: () => {
        this.readyNetworks.clear();
        listener.lost();
      },
    });
  }
}
