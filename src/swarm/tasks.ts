// Where Swarm runs our services: their tasks, the nodes' addresses, and a running task's container with the Docker API of its node.
import type Docker from "dockerode";
import { call } from "../docker/engine-api.js";

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
}
