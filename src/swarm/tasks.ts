// Where Swarm runs our services: their tasks (and waits on their states), the nodes' addresses, a running task's container with the Docker API of its node, a service's last lines.
import type Docker from "dockerode";
import type { ServiceSpec } from "../core/environments/environment-spec.js";
import { systemScheduler } from "../clock/system-scheduler.js";
import { call } from "../docker/engine-api.js";
import { demultiplex } from "../docker/exec.js";
import { engineHonoursStartInterval, noteProbedHealthy, probeDuringStartPeriod, type StartProbe } from "../docker/start-interval.js";

export interface Task {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt: string;
  DesiredState: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ExitCode?: number; ContainerID?: string }; PortStatus?: { Ports?: Array<{ PublishedPort?: number; TargetPort?: number }> } };
}

/** Task states that will not turn into a running task by themselves. */
export const GIVEN_UP = new Set(["rejected", "failed", "orphaned", "remove"]);

export class SwarmTasks {
  private nodeAddresses = new Map<string, string>();
  /** The manager's own node address: commands in containers there need no other API. */
  private ownAddress?: string;

  constructor(private readonly docker: Docker, private readonly nodeDockers?: ReadonlyMap<string, Docker>) {}

  /** Tasks matching the filters, newest first. */
  async tasks(filters: Record<string, string[]>): Promise<Task[]> {
    const tasks = (await call(() => this.docker.listTasks({ filters }))) as Task[];
    return tasks.sort((a, b) => Date.parse(b.CreatedAt) - Date.parse(a.CreatedAt));
  }

  /** The newest task of a service that Swarm wants running (or that ran to its end: a one-shot job). */
  async currentTask(serviceId: string): Promise<Task | undefined> {
    return (await this.tasks({ service: [serviceId] }))[0];
  }

  /** Where a running task's published port answers: its node's address and the port. */
  async endpointOf(task: Task): Promise<string | undefined> {
    const port = task.Status.PortStatus?.Ports?.find((entry) => entry.PublishedPort)?.PublishedPort;
    if (!port || !task.NodeID) return undefined;
    const address = await this.addressOf(task.NodeID);
    return address ? `${address}:${port}` : undefined;
  }

  async addressOf(nodeId: string): Promise<string | undefined> {
    if (!this.nodeAddresses.has(nodeId)) await this.refreshNodes();
    return this.nodeAddresses.get(nodeId);
  }

  async refreshNodes(): Promise<void> {
    const nodes = (await call(() => this.docker.listNodes())) as Array<{ ID: string; Status: { Addr?: string } }>;
    this.nodeAddresses = new Map(nodes.filter((node) => node.Status.Addr).map((node) => [node.ID, node.Status.Addr!]));
  }

  /** The Docker API of a node: the manager's own, or one of swarm.nodes (undefined when it is not configured). */
  async dockerOf(address: string): Promise<Docker | undefined> {
    this.ownAddress ??= ((await call(() => this.docker.info())) as { Swarm?: { NodeAddr?: string } }).Swarm?.NodeAddr ?? "";
    return address === this.ownAddress ? this.docker : this.nodeDockers?.get(address);
  }

  /** Every node API the controller has: the manager's and those of swarm.nodes (what a volume's removal needs). */
  allDockers(): Docker[] {
    return [this.docker, ...(this.nodeDockers?.values() ?? [])];
  }

  /** The running container of a service and the Docker API of its node (the manager's own, or one of swarm.nodes). */
  async containerOf(serviceId: string): Promise<{ docker: Docker; containerId: string }> {
    const task = (await this.tasks({ service: [serviceId], "desired-state": ["running"] })).find((candidate) => candidate.Status.State === "running");
    const containerId = task?.Status.ContainerStatus?.ContainerID;
    if (!task?.NodeID || !containerId) throw new Error("it has no running container right now");
    const address = await this.addressOf(task.NodeID);
    const docker = address ? await this.dockerOf(address) : undefined;
    if (!docker) throw new Error(`it runs on node ${address ?? task.NodeID}, whose Docker API is not configured (add it to swarm.nodes)`);
    return { docker, containerId };
  }

  /**
   * Waits until a dependency is what its dependant asked for: started, healthy (Swarm calls a task running only once
   * its healthcheck passed), or done with 0. `startProbe`: where the task's node ignores start_interval, the
   * controller runs the check itself while the task is starting, through that node's API (start-interval.ts).
   */
  async awaitCondition(serviceId: string, name: string, condition: ServiceSpec["dependsOn"][number]["condition"], deadline: number, startProbe?: StartProbe): Promise<void> {
    let last = "no task yet";
    const probing = new AbortController();
    let probe: { container: string; healthy: boolean } | undefined;
    try {
      while (systemScheduler.now() < deadline) {
        const task = await this.currentTask(serviceId);
        const state = task?.Status.State;
        if (task) last = `${state}${task.Status.Err ? `: ${task.Status.Err}` : ""}`;
        if (condition === "service_healthy" && startProbe && state === "starting" && task) {
          const container = task.Status.ContainerStatus?.ContainerID;
          if (probe?.healthy && probe.container === container) {
            noteProbedHealthy(container);
            return;
          }
          if (container && probe?.container !== container) probe = this.probeWhileStarting(task, container, startProbe, probing.signal);
        }
        if (await this.conditionMet(condition, state, last, name, serviceId, task)) return;
        await systemScheduler.sleep(200);
      }
    } finally {
      probing.abort();
    }
    throw new Error(`service ${name} was not ${condition === "service_healthy" ? "healthy" : condition === "service_started" ? "started" : "done"} within the app's readiness timeout (last task: ${last})${await this.tailOf(serviceId)}`);
  }

  /** Starts the start-period probe of a starting task's container on its node; `healthy` turns true on its first pass. */
  private probeWhileStarting(task: Task, container: string, startProbe: StartProbe, signal: AbortSignal): { container: string; healthy: boolean } {
    const probe = { container, healthy: false };
    void (async () => {
      const address = task.NodeID ? await this.addressOf(task.NodeID) : undefined;
      const docker = address ? await this.dockerOf(address) : undefined;
      // A node whose API is not configured: Swarm's own checks decide, at their interval.
      if (!docker || (await engineHonoursStartInterval(docker))) return;
      probe.healthy = await probeDuringStartPeriod(docker, container, startProbe, signal);
    })().catch(() => undefined);
    return probe;
  }

  /** Whether a task's state is what the condition asks for; throws when it never will be. */
  private async conditionMet(condition: ServiceSpec["dependsOn"][number]["condition"], state: string | undefined, last: string, name: string, serviceId: string, task: Task | undefined): Promise<boolean> {
    if (condition === "service_completed_successfully") {
      if (state === "complete") return true;
      if (state === "failed" || state === "rejected") throw new Error(`service ${name} ended with ${last}${await this.tailOf(serviceId)}`);
    } else if (state === "running" || (condition === "service_started" && state === "complete")) {
      return true;
    } else if (task && GIVEN_UP.has(state ?? "") && /no such image|not found|manifest unknown|no suitable node|pull access denied/i.test(task.Status.Err ?? "")) {
      throw new Error(`service ${name} could not start on the swarm (${last})`);
    }
    return false;
  }

  /** The node Swarm put a service's task on (where its volumes now live). */
  async placedNode(serviceId: string, name: string, deadline: number): Promise<string> {
    while (systemScheduler.now() < deadline) {
      const node = (await this.currentTask(serviceId))?.NodeID;
      if (node) return node;
      await systemScheduler.sleep(100);
    }
    throw new Error(`service ${name} was not placed on any node within the app's readiness timeout`);
  }

  /** The node the first of these services that has a task runs on (where the volumes of an instance before live). */
  async volumeNodeOf(serviceIds: string[]): Promise<string | undefined> {
    for (const id of serviceIds) {
      const node = (await this.tasks({ service: [id] })).find((task) => task.NodeID)?.NodeID;
      if (node) return node;
    }
    return undefined;
  }

  /** A scaled-down service's task is gone from its node: its volume is free for the new one. */
  async awaitStopped(serviceId: string, name: string, deadline: number): Promise<void> {
    while (systemScheduler.now() < deadline) {
      const live = (await this.tasks({ service: [serviceId] })).some((task) => ["running", "starting", "preparing", "assigned", "accepted", "ready", "pending", "new"].includes(task.Status.State));
      if (!live) return;
      await systemScheduler.sleep(200);
    }
    throw new Error(`service ${name} of the instance before did not stop in time`);
  }

  private async tailOf(serviceId: string): Promise<string> {
    const text = await this.logTail(serviceId, 5);
    return text ? `; its last lines: ${text.split("\n").slice(-5).join(" | ").slice(0, 600)}` : "";
  }

  async logTail(serviceId: string, lines: number): Promise<string> {
    try {
      return demultiplex((await this.docker.getService(serviceId).logs({ stdout: true, stderr: true, tail: lines, follow: false } as never)) as unknown as Buffer).trim();
    } catch {
      return "";
    }
  }
}
