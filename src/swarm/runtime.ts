// The ContainerRuntime on Docker Swarm: each instance is a one-replica service (labels on the service and its
// containers); its endpoint is the address of the node Swarm put it on and the port it published there in host mode.
import { hardenedSwarmContainerSpec } from "../docker/hardening.js";
import type Docker from "dockerode";
import { LABEL_PREFIX } from "../core/model.js";
import { PlacementError, type ContainerInspection, type ContainerRuntime, type ExecResult, type ExecSpec, type InstanceSpec, type RuntimeContainer, type RuntimeState, type ServiceStatus, type StartedInstance } from "../core/runtime.js";
import { call, statusCode } from "../docker/runtime.js";
import { execInContainer } from "../docker/exec.js";
import { commitContainer } from "../docker/commit.js";
import { RegistryImages } from "./registry.js";
import { pickCandidatePort, type PortRange } from "../docker/ports.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import { GIVEN_UP, SwarmTasks, type Task } from "./tasks.js";
import { SwarmEnvironments, type SwarmService } from "./environments.js";

export interface SwarmOptions {
  /** host:port of the registry every node pulls from; images are pushed there from the manager first. */
  registry?: string;
  /** Placement constraints for every demo (`node.labels.demos==yes`); apps may add their own. */
  constraints: string[];
  /** How long Swarm may take to schedule, pull and start a task before the launch fails with its reason. */
  startTimeoutMs: number;
  /**
   * The ports demos publish on their node (host mode): a known range, so one firewall rule per node keeps them
   * reachable from nginx alone (scripts/swarm-firewall.sh). Swarm places a task only where its port is free.
   */
  ports: PortRange;
  /** The Docker API of other nodes by address: a command inside a container runs through its own node's daemon. */
  nodeDockers?: ReadonlyMap<string, Docker>;
}

/** Swarm found no node where the chosen port is free: another port is tried. */
class PortTakenEverywhere extends Error {}
const PORT_TAKEN = /port .*(already in use|unavailable)|host-mode port/i;
const PORT_ATTEMPTS = 10;

export class SwarmRuntime implements ContainerRuntime {
  /** Published ports of our services as last listed: a new choice rarely meets one. */
  private portsInUse = new Set<number>();

  private readonly images: RegistryImages;
  private readonly tasks: SwarmTasks;
  /** Environments of several services: a Swarm service each, listed and removed as one instance. */
  private readonly environments: SwarmEnvironments;

  constructor(private readonly docker: Docker, private readonly options: SwarmOptions) {
    this.images = new RegistryImages(docker, options.registry);
    this.tasks = new SwarmTasks(docker, options.nodeDockers);
    this.environments = new SwarmEnvironments(docker, this.tasks, this.images, options.constraints);
  }

  async createAndStart(spec: InstanceSpec): Promise<StartedInstance> {
    if (spec.environment) {
      const started = await this.environments.start({ ...spec, environment: spec.environment }, (options) => this.startOnFreePort(options));
      return { containerId: started.serviceId, endpoint: started.endpoint };
    }
    const image = await this.images.imageFor(spec.image);
    const started = await this.startOnFreePort((port) => this.serviceOptions(spec, image, port));
    return { containerId: started.serviceId, endpoint: started.endpoint };
  }

  /** Creates the service on a port of the range, choosing another when Swarm finds no node where it is free. */
  private async startOnFreePort(options: (port: number) => Record<string, unknown>): Promise<{ serviceId: string; endpoint: string }> {
    const refused = new Set<number>();
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt += 1) {
      const port = pickCandidatePort(this.options.ports, new Set([...this.portsInUse, ...refused]));
      if (port === undefined) break;
      try {
        const started = await this.createOnPort(options(port));
        this.portsInUse.add(port);
        return started;
      } catch (error) {
        if (!(error instanceof PortTakenEverywhere)) throw error;
        refused.add(port);
      }
    }
    throw new PlacementError("no port of the configured range is free on any node that may run this demo");
  }

  private serviceOptions(spec: InstanceSpec, image: string, publishedPort: number): Record<string, unknown> {
    const name = `demo-launcher-${spec.namespace}-${spec.instanceId}`;
    const labels = { ...spec.labels, [`${LABEL_PREFIX}runtime`]: "swarm" };
    return {
      Name: name,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: image,
          Labels: labels,
          Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
          StopGracePeriod: 3_000_000_000,
          Privileges: { NoNewPrivileges: true },
          ...hardenedSwarmContainerSpec(spec.hardening),
        },
        Resources: { Limits: { MemoryBytes: spec.memoryBytes, NanoCPUs: Math.round(spec.cpus * 1e9), Pids: spec.pids } },
        // A node's death or a crash: Swarm starts the task again (on another node if it must); the controller follows.
        RestartPolicy: { Condition: "any", Delay: 1_000_000_000, MaxAttempts: 0 },
        Placement: { Constraints: [...this.options.constraints, ...(spec.constraints ?? [])], Preferences: [{ Spread: { SpreadDescriptor: "node.id" } }] },
        LogDriver: { Name: "json-file", Options: { "max-size": "1m", "max-file": "2" } },
      },
      Mode: { Replicated: { Replicas: 1 } },
      // No routing mesh (it needs IPVS) and no virtual IP: the port is published on the task's own node.
      EndpointSpec: { Mode: "dnsrr", Ports: [{ Protocol: "tcp", TargetPort: spec.containerPort, PublishedPort: publishedPort, PublishMode: "host" }] },
    };
  }

  private async createOnPort(options: Record<string, unknown>): Promise<{ serviceId: string; endpoint: string }> {
    const name = options.Name as string;
    let serviceId: string;
    try {
      serviceId = ((await call(() => this.docker.createService(options as never))) as { id?: string; ID?: string }).id ?? "";
    } catch (error) {
      // A retry after the manager went away mid-launch can meet the service of the first try.
      if (statusCode(error) !== 409) throw error;
      await call(() => this.docker.getService(name).remove()).catch(() => {});
      serviceId = ((await call(() => this.docker.createService(options as never))) as { id?: string; ID?: string }).id ?? "";
    }
    try {
      return { serviceId, endpoint: await this.runningEndpoint(serviceId) };
    } catch (error) {
      await call(() => this.docker.getService(serviceId).remove()).catch(() => {});
      throw error;
    }
  }

  /** Waits for the service's task to run and answers where nginx reaches it; a task Swarm gives up on fails the launch with Swarm's reason. */
  private async runningEndpoint(serviceId: string): Promise<string> {
    const deadline = systemScheduler.now() + this.options.startTimeoutMs;
    let last = "no task yet";
    while (systemScheduler.now() < deadline) {
      const tasks = await this.tasks.tasks({ service: [serviceId] });
      const running = tasks.find((task) => task.Status.State === "running");
      const endpoint = running && (await this.tasks.endpointOf(running));
      if (endpoint) return endpoint;
      const newest = tasks[0];
      if (newest) {
        last = `${newest.Status.State}${newest.Status.Err ? `: ${newest.Status.Err}` : ""}`;
        // Pending because the port is taken on every node it may use: the caller picks another port.
        if (PORT_TAKEN.test(newest.Status.Err ?? "")) throw new PortTakenEverywhere(last);
        // Swarm retries a failed task by itself, but a missing image or no suitable node will not get better.
        if (GIVEN_UP.has(newest.Status.State) && /no such image|not found|manifest unknown|no suitable node|pull access denied/i.test(newest.Status.Err ?? "")) {
          throw new Error(`Swarm could not start it (${last})`);
        }
      }
      await systemScheduler.sleep(100);
    }
    throw new Error(`Swarm did not start it within ${Math.round(this.options.startTimeoutMs / 1000)} s (last task: ${last})`);
  }

  async list(namespace: string): Promise<RuntimeContainer[]> {
    const all = (await call(() => this.docker.listServices({ filters: { label: [`${LABEL_PREFIX}namespace=${namespace}`] } }))) as Array<SwarmService & { Spec: { EndpointSpec?: { Ports?: Array<{ PublishedPort?: number }> } } }>;
    this.portsInUse = new Set(all.flatMap((service) => (service.Spec.EndpointSpec?.Ports ?? []).map((entry) => entry.PublishedPort ?? 0)).filter((port) => port > 0));
    // An environment is one instance to the core: its routed service. (Asked even of an empty listing: the first one
    // of a run sweeps what a killed start left, before any start of this run could look half-made.)
    const services = await this.environments.listed(namespace, all);
    if (services.length === 0) return [];
    const tasks = await this.tasks.tasks({ "desired-state": ["running"] });
    await this.tasks.refreshNodes();
    const result: RuntimeContainer[] = [];
    for (const service of services) {
      const task = tasks.find((candidate) => candidate.ServiceID === service.ID);
      const endpoint = task?.Status.State === "running" ? await this.tasks.endpointOf(task) : undefined;
      const scaledDown = service.Spec.Mode?.Replicated?.Replicas === 0;
      result.push({ containerId: service.ID, labels: service.Spec.Labels ?? {}, state: stateOf(task, scaledDown), ...(endpoint ? { endpoint } : {}) });
    }
    return result;
  }

  async inspect(containerId: string): Promise<ContainerInspection | undefined> {
    try {
      const service = (await call(() => this.docker.getService(containerId).inspect())) as { Spec: { Mode?: { Replicated?: { Replicas?: number } } } };
      const task = await this.tasks.currentTask(containerId);
      const current = task?.DesiredState === "running" ? task : undefined;
      const endpoint = current?.Status.State === "running" ? await this.tasks.endpointOf(current) : undefined;
      return { state: stateOf(current, service.Spec.Mode?.Replicated?.Replicas === 0), exitCode: task?.Status.ContainerStatus?.ExitCode ?? 0, oomKilled: false, ...(endpoint ? { endpoint } : {}) };
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  async remove(containerId: string): Promise<void> {
    if (this.environments.owns(containerId)) return this.environments.remove(containerId);
    try {
      await call(() => this.docker.getService(containerId).remove());
    } catch (error) {
      if (statusCode(error) === 404) return;
      throw error;
    }
  }

  async stop(containerId: string): Promise<void> {
    if (this.environments.owns(containerId)) return this.environments.scaleAll(containerId, 0);
    await this.environments.scale(containerId, 0);
  }

  async restart(containerId: string): Promise<void> {
    if (this.environments.owns(containerId)) return this.environments.scaleAll(containerId, 1);
    await this.environments.scale(containerId, 1);
  }

  async services(containerId: string): Promise<ServiceStatus[]> {
    return this.environments.owns(containerId) ? this.environments.services(containerId) : [];
  }

  /** Runs a command in the service's running container (of an environment, the named service's), through the daemon of the node that runs it. */
  async exec(serviceId: string, spec: ExecSpec): Promise<ExecResult> {
    if (spec.service !== undefined) serviceId = await this.environments.serviceId(serviceId, spec.service);
    const { docker, containerId } = await this.tasks.containerOf(serviceId);
    return call(() => execInContainer(docker, containerId, spec), spec.timeoutMs + 15_000);
  }

  /** A snapshot: the container saved on its node, and pushed from there to the registry so any node can start it. */
  async commit(serviceId: string, image: string, labels: Record<string, string>): Promise<void> {
    const { docker, containerId } = await this.tasks.containerOf(serviceId);
    await call(() => commitContainer(docker, containerId, image, labels), 300_000);
    await this.images.pushSaved(docker, image);
  }

  async logTail(containerId: string, lines: number, service?: string): Promise<string> {
    if (service !== undefined) containerId = await this.environments.serviceId(containerId, service);
    return this.tasks.logTail(containerId, lines);
  }

  missingImage(image: string): string {
    return this.options.registry ? `the image ${image} is neither on the swarm's manager nor in its registry ${this.options.registry}` : `the image ${image} is not on the swarm's manager (and no swarm.registry is set, from which other nodes could pull it)`;
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await call(() => this.docker.getImage(image).inspect());
      return true;
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
    return this.images.inRegistry(image);
  }
}

/** A service's state in the terms of a container: what the engine's reconciliation understands. */
function stateOf(task: Task | undefined, scaledDown: boolean): RuntimeState {
  if (scaledDown) return "exited";
  if (!task) return "restarting";
  if (task.Status.State === "running") return "running";
  // Pending, being placed or pulled: Swarm is starting it (again), never "created and left" as on one host.
  return "restarting";
}

