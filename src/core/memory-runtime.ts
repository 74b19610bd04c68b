// An in-memory ContainerRuntime for the core's unit tests; the contract suite holds it to Docker's behaviour.
import { PlacementError, PortTakenError, RuntimeUnavailableError, type ContainerInspection, type ContainerRuntime, type InstanceSpec, type RuntimeContainer, type RuntimeState, type StartedInstance } from "./runtime.js";

export interface MemoryContainer extends RuntimeContainer {
  spec?: InstanceSpec;
  exitCode: number;
  oomKilled: boolean;
}

export class MemoryRuntime implements ContainerRuntime {
  readonly containers = new Map<string, MemoryContainer>();
  readonly images = new Set<string>();
  /** Ports something else holds: a bind there fails and another is chosen, as with Docker. */
  readonly busyPorts = new Set<number>();
  readonly removed: string[] = [];
  /** While true every call fails the way a stopped daemon makes them fail. */
  down = false;
  lost: (() => void) | undefined;
  /** A registry, when a test gives one: images a launch does not find are pulled through it. */
  pullImage?: ContainerRuntime["pullImage"];
  private next = 0;

  constructor(readonly ports: { from: number; to: number } = { from: 20000, to: 20009 }, images: string[] = ["img"]) {
    for (const image of images) this.images.add(image);
  }

  private answer(): void {
    if (this.down) throw new RuntimeUnavailableError("connect ENOENT /var/run/docker.sock");
  }

  private takenPorts(): Set<number> {
    const taken = new Set(this.busyPorts);
    for (const container of this.containers.values()) if (container.endpoint) taken.add(Number(container.endpoint.split(":").at(-1)));
    return taken;
  }

  async createAndStart(spec: InstanceSpec): Promise<StartedInstance> {
    const created = await this.prepare(spec);
    this.containers.get(created.containerId)!.state = "running";
    return created;
  }

  /** Made, not started: the port is the container's from now on, yet bound (and so checked) only at the start. */
  async prepare(spec: InstanceSpec): Promise<StartedInstance> {
    this.answer();
    if (!this.images.has(spec.image)) throw new Error(`No such image: ${spec.image}`);
    const taken = this.takenPorts();
    let port: number | undefined;
    for (let candidate = this.ports.from; candidate <= this.ports.to; candidate += 1) {
      if (!taken.has(candidate)) {
        port = candidate;
        break;
      }
    }
    if (port === undefined) throw new PlacementError("no free host port is left in the configured range");
    const containerId = `c${(this.next += 1)}`;
    const endpoint = `127.0.0.1:${port}`;
    this.containers.set(containerId, { containerId, labels: spec.labels, state: "created", endpoint, spec, exitCode: 0, oomKilled: false });
    return { containerId, endpoint };
  }

  async startPrepared(containerId: string): Promise<void> {
    this.answer();
    const container = this.containers.get(containerId);
    if (!container) throw Object.assign(new Error(`No such container: ${containerId}`), { statusCode: 404 });
    const port = Number(container.endpoint!.split(":").at(-1));
    if (this.busyPorts.has(port)) {
      await this.remove(containerId);
      throw new PortTakenError(`Bind for 127.0.0.1:${port} failed: port is already allocated`);
    }
    container.state = "running";
  }

  async list(namespace: string): Promise<RuntimeContainer[]> {
    this.answer();
    return [...this.containers.values()].filter((container) => container.labels["demo-launcher.namespace"] === namespace).map(({ containerId, labels, state, endpoint }) => ({ containerId, labels, state, ...(endpoint ? { endpoint } : {}) }));
  }

  async inspect(containerId: string): Promise<ContainerInspection | undefined> {
    this.answer();
    const container = this.containers.get(containerId);
    return container && { state: container.state, exitCode: container.exitCode, oomKilled: container.oomKilled, ...(container.endpoint ? { endpoint: container.endpoint } : {}) };
  }

  async remove(containerId: string): Promise<void> {
    this.answer();
    if (this.containers.delete(containerId)) this.removed.push(containerId);
  }

  async logTail(): Promise<string> {
    return "boom";
  }

  async imageExists(image: string): Promise<boolean> {
    this.answer();
    return this.images.has(image);
  }

  async restart(containerId: string): Promise<void> {
    this.answer();
    const container = this.containers.get(containerId);
    if (!container) throw Object.assign(new Error(`No such container: ${containerId}`), { statusCode: 404 });
    container.state = "running";
  }

  async stop(containerId: string): Promise<void> {
    this.answer();
    this.halt(containerId, 0);
  }

  /** Stops a container the way its app or Docker would (tests). */
  halt(containerId: string, exitCode: number, state: RuntimeState = "exited"): void {
    const container = this.containers.get(containerId);
    if (!container) return;
    container.state = state;
    container.exitCode = exitCode;
  }

  watchConnection(lost: () => void): () => void {
    this.lost = lost;
    return () => (this.lost = undefined);
  }
}
