// The interfaces the engine needs from the outside world; the edges implement them.
export interface ContainerSpec {
  name: string;
  image: string;
  containerPort: number;
  hostPort: number;
  labels: Record<string, string>;
  env: Record<string, string>;
  memoryBytes: number;
  cpus: number;
  pids: number;
  network: string;
}

export type RuntimeState = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

export interface RuntimeContainer {
  containerId: string;
  labels: Record<string, string>;
  state: RuntimeState;
}

export interface ContainerInspection {
  state: RuntimeState;
  exitCode: number;
  oomKilled: boolean;
}

/** Thrown when the host port was taken between our choice and Docker's bind. */
export class PortConflictError extends Error {
  constructor(readonly port: number, cause: string) {
    super(`port ${port} is already in use: ${cause}`);
    this.name = "PortConflictError";
  }
}

/** Thrown when the container engine does not answer at all (daemon down or restarting), as opposed to refusing. */
export class RuntimeUnavailableError extends Error {
  constructor(cause: string) {
    super(`the container engine is not answering (${cause})`);
    this.name = "RuntimeUnavailableError";
  }
}

export interface ContainerRuntime {
  /** Creates and starts; on failure removes what it created and throws (PortConflictError on a taken port). */
  createAndStart(spec: ContainerSpec): Promise<string>;
  /** Every container carrying our labels in this namespace, in any state. */
  list(namespace: string): Promise<RuntimeContainer[]>;
  inspect(containerId: string): Promise<ContainerInspection | undefined>;
  /** Kills and removes; a container that is already gone is not an error. */
  remove(containerId: string): Promise<void>;
  logTail(containerId: string, lines: number): Promise<string>;
  imageExists(image: string): Promise<boolean>;
  /** Starts a stopped container again (after an engine restart stopped it); same port binding. */
  restart(containerId: string): Promise<void>;
  /**
   * Calls `lost` whenever the connection to the engine breaks (a daemon restart stops containers even
   * when it is too quick for a periodic check to see). Returns an unsubscribe function.
   */
  watchConnection?(lost: () => void): () => void;
}

/** Answers whether the app in a demo answers HTTP yet. */
export type ReadinessProbe = (port: number, path: string) => Promise<boolean>;

/** Resolves true once nginx serves routes of at least this generation. */
export type RouteConfirmer = (generation: number, timeoutMs: number) => Promise<boolean>;

/** Writes the routes file for these demos; returns the generation now on disk. */
export interface RoutesSink {
  /** The generation and routed hosts of the file as it is on disk (for adoption at start). */
  readCurrent(): Promise<{ generation: number; hosts: Set<string> }>;
  write(routes: import("./routes.js").Route[], generation: number): Promise<boolean>;
}

export interface EndedDemo {
  id: string;
  app: string;
  status: "expired" | "stopped" | "failed";
  reason: string;
  endedAt: number;
}

/** A visitor waiting in line for a slot; kept across restarts with the ended demos. */
export interface QueuedDemo {
  id: string;
  app: string;
  client?: string;
  queuedAt: number;
}

/** A claimed warm-pool container: its labels were written before it had an owner, so the lease lives here. */
export interface Lease {
  id: string;
  expiresAt: number;
  client?: string;
}

export interface EngineState {
  ended: EndedDemo[];
  queued: QueuedDemo[];
  /** Accepted launches that may not have reached Docker yet (same shape; queuedAt is when it was accepted). */
  starting?: QueuedDemo[];
  leases?: Lease[];
}

/** What Docker labels cannot hold: which demos ended and how (so their host says "expired", not
 * "unknown", after a restart), and the waiting line. */
export interface StateStore {
  load(): Promise<EngineState>;
  save(state: EngineState): Promise<void>;
}

export interface Clock {
  now(): number;
}
