// The interfaces the core needs from the outside world (containers, nginx, disk, clock); the edges implement them.
import type { Job } from "./state/jobs.js";
import type { PublishedRoutes, Route } from "./routing/routes.js";

/** One instance to start; where it runs, its name and its host port are the runtime's business. */
export interface InstanceSpec {
  demoId: string;
  instanceId: string;
  namespace: string;
  image: string;
  containerPort: number;
  labels: Record<string, string>;
  env: Record<string, string>;
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** Placement constraints of the app, for runtimes that place (Swarm); one host ignores them. */
  constraints?: string[];
  /** Capabilities, read-only root, tmpfs, open files and disk budget; absent parts take the runtime's defaults. */
  hardening?: import("./app-spec.js").Hardening;
  /**
   * An environment of several services: `image` and `containerPort` are its routed service's, the memory, CPU and
   * process limits each service's default and maximum. The runtime starts every service, in order, on a network of
   * the demo's own; the started instance's container is the routed service's.
   */
  environment?: EnvironmentInstance;
}

export interface EnvironmentInstance {
  spec: import("./environments/environment-spec.js").EnvironmentSpec;
  /** Where the files it copies in are read from. */
  projectRoot: string;
  /** How long the services may take to start and turn healthy (the app's readiness timeout). */
  startTimeoutMs: number;
  /** A shared demo's replica: a network, volumes and services of its own, nothing shared with the demo's other instances. */
  isolated?: boolean;
}

/** A started instance: its container and the endpoint nginx and the readiness probe can reach. */
export interface StartedInstance {
  containerId: string;
  endpoint: string;
  /** An environment's further routed services (routes:): name → where it answers. */
  routes?: Record<string, string>;
}

export type RuntimeState = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

export interface RuntimeContainer {
  containerId: string;
  labels: Record<string, string>;
  state: RuntimeState;
  /** Where it answers, when the runtime knows (a container made by us always has one). */
  endpoint?: string;
  /** An environment's further routed services (routes:): name → where it answers. */
  routes?: Record<string, string>;
}

export interface ContainerInspection {
  state: RuntimeState;
  exitCode: number;
  oomKilled: boolean;
  /** Where it answers now, for runtimes that may move it (a cluster starting it again on another node). */
  endpoint?: string;
}

/** One command to run inside a running instance (a database restore); an argument array, never a shell line. */
export interface ExecSpec {
  argv: string[];
  /** Of an environment: the service to run it in (the routed one's container otherwise). */
  service?: string;
  user?: string;
  env?: Record<string, string>;
  timeoutMs: number;
}

export interface ExecResult {
  exitCode: number;
  /** The end of what it printed (stdout and stderr together). */
  output: string;
  timedOut?: boolean;
}

/** Thrown when the container engine does not answer at all (daemon down or restarting), as opposed to refusing. */
export class RuntimeUnavailableError extends Error {
  constructor(cause: string) {
    super(`the container engine is not answering (${cause})`);
    this.name = "RuntimeUnavailableError";
  }
}

/** How far a pull has come: bytes downloaded and known so far over the layers the registry has announced. */
export interface PullProgress {
  image: string;
  doneBytes: number;
  totalBytes: number;
  layers: number;
}

/** One service of an environment as Docker sees it. */
export interface ServiceStatus {
  service: string;
  state: RuntimeState;
  /** Its healthcheck's verdict, when it has one. */
  health?: "starting" | "healthy" | "unhealthy";
  /** The service nginx routes to. */
  routed: boolean;
}

/** Thrown when logs (or another per-service question) name a service the demo's environment does not have. */
export class UnknownServiceError extends Error {
  constructor(readonly service: string, readonly services: string[]) {
    super(`no service ${service}; services: ${services.join(", ") || "none (a single container)"}`);
    this.name = "UnknownServiceError";
  }
}

/** Thrown when the runtime could not place an instance (no free host port, no node with room). */
export class PlacementError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "PlacementError";
  }
}

/** Thrown by `startPrepared` when the prepared container's host port was taken meanwhile: the container is gone, create another. */
export class PortTakenError extends Error {
  constructor(detail: string) {
    super(`its host port was taken before it started (${detail})`);
    this.name = "PortTakenError";
  }
}

export interface ContainerRuntime {
  /** Why a missing image is missing, in this runtime's terms (by default: "the image … is not on this host"). */
  missingImage?(image: string): string;
  /** Places, creates and starts; on failure removes what it created and throws. */
  createAndStart(spec: InstanceSpec): Promise<StartedInstance>;
  /**
   * Creates a single container without starting it: its endpoint is known at once, yet it holds no memory, CPU or
   * bound port. Runtimes that can (one Docker host) have both halves; a launch then routes while the start runs.
   * `ahead`: made before anyone asked (a created-ahead container), so it waits behind visitors' starts.
   */
  prepare?(spec: InstanceSpec, ahead?: boolean): Promise<StartedInstance>;
  /** Starts a prepared container; PortTakenError when its port was taken meanwhile (it is removed then). */
  startPrepared?(containerId: string): Promise<void>;
  /** Every container carrying our labels in this namespace, in any state. */
  list(namespace: string): Promise<RuntimeContainer[]>;
  /** undefined when the runtime says there is no such container. */
  inspect(containerId: string): Promise<ContainerInspection | undefined>;
  /** Kills and removes; a container that is already gone is not an error. */
  remove(containerId: string): Promise<void>;
  /** The last lines the container wrote; of an environment, the named service's (UnknownServiceError when it has none). */
  logTail(containerId: string, lines: number, service?: string): Promise<string>;
  imageExists(image: string): Promise<boolean>;
  /** An environment's services as they run now (state and health); [] for a single container. */
  services?(containerId: string): Promise<ServiceStatus[]>;
  /** Fetches an image from its registry (a Compose service's postgres:15), telling its progress; throws with the registry's reason. */
  pullImage?(image: string, onProgress?: (progress: PullProgress) => void): Promise<void>;
  /** Stops a container without removing it (an idle preview); `restart` starts it again at the same endpoint. */
  stop(containerId: string): Promise<void>;
  /** Starts a stopped container again (after an engine restart stopped it); same endpoint. */
  restart(containerId: string): Promise<void>;
  /** Saves a container as an image (its processes paused for the copy); a snapshot state source. */
  commit?(containerId: string, image: string, labels: Record<string, string>): Promise<void>;
  /** Runs a command inside a running container and waits for it (state sources restore databases this way). */
  exec?(containerId: string, spec: ExecSpec): Promise<ExecResult>;
  /** Copies a file into a running container (a preview's seed), or out of one (a database's dump). */
  writeFile?(containerId: string, file: ContainerFile & { content: Buffer }): Promise<void>;
  readFile?(containerId: string, file: ContainerFile & { maxBytes: number }): Promise<Buffer>;
  /**
   * Follows the engine's events for this namespace's containers: `stopped` as soon as one dies or is removed (the
   * listing is then only a safety net), `lost` whenever the connection breaks (a daemon restart stops containers
   * even when it is too quick for a listing to see), `opened` when the stream is (again) open: what happened while
   * it was not is for a full listing to find. Returns an unsubscribe function.
   */
  watchContainers?(namespace: string, listener: ContainerEvents): () => void;
  /**
   * Calls `lost` whenever the connection to the engine breaks (a daemon restart stops containers even
   * when it is too quick for a periodic check to see). Returns an unsubscribe function.
   */
  watchConnection?(lost: () => void): () => void;
}

export interface ContainerEvents {
  stopped(containerId: string, how: "died" | "removed"): void;
  lost(): void;
  opened(): void;
}

/** A file inside a demo's container: of an environment, inside its `service`'s. */
export interface ContainerFile {
  path: string;
  service?: string | undefined;
}

/** Answers whether the app at this endpoint (host:port) answers HTTP yet. */
export type ReadinessProbe = (endpoint: string, path: string) => Promise<boolean>;

/** Owns what nginx is told: publish routes, learn when nginx serves them. */
export type RouteConfirmation = "served" | "refused" | "timeout";

export interface RoutePublisher {
  /** What was published before this run (read once at start). */
  load(): Promise<PublishedRoutes>;
  /**
   * Writes the routes (coalescing bursts); resolves to the generation that holds them. Throws when the write fails.
   * The routes are asked for when the write runs: a burst of calls costs one walk over every demo, not one each.
   */
  publish(routes: () => Route[]): Promise<number>;
  /** Puts the file last published back if the disk lost it (no new generation); the reaper asks every few passes. */
  reassert?(): Promise<void>;
  /**
   * Resolves "served" once nginx serves this generation or a later one, "refused" when nginx refused the file (what
   * could help, such as leaving an operator template nginx refuses, was tried first), "timeout" when neither came.
   */
  confirm(generation: number, timeoutMs: number): Promise<RouteConfirmation>;
  readonly generation: number;
}

export interface EndedDemo {
  id: string;
  app: string;
  status: "expired" | "stopped" | "failed";
  reason: string;
  endedAt: number;
}

/** A launch accepted before it has a container: waiting in line, or not yet in Docker. */
export interface AcceptedLaunch {
  id: string;
  app: string;
  /** The state file keeps the first name of this field. */
  client?: string;
  queuedAt: number;
}

/** A claimed warm-pool container or an extended demo: its labels cannot change, so the lease lives here. */
export interface Lease {
  id: string;
  expiresAt: number;
  client?: string;
  /** A preview's hard end (its source's `ttl`), which its lease never passes. */
  hardEndAt?: number;
}

export interface EngineState {
  ended: EndedDemo[];
  queued: AcceptedLaunch[];
  /** Accepted launches that may not have reached Docker yet. */
  starting?: AcceptedLaunch[];
  leases?: Lease[];
  /** Previews stopped for being idle: their stopped containers are theirs, not crashed apps. */
  asleep?: string[];
  /** Fresh previews whose seed was not loaded yet (their launch, adopted by the next run, loads it). */
  unseeded?: string[];
  /** Shared demos: when each was last reset, and how its last reset went (a running one runs again). */
  shared?: Array<{ id: string; lastResetAt?: number; reset?: import("./shared/shared.js").ResetState }>;
  /** Rewinds: finished ones for their callers, unfinished ones to run again. */
  jobs?: Job[];
  /** The last replacement of each live demo (its outcome survives a restart). */
  replacements?: Array<{ id: string; status: "running" | "succeeded" | "failed"; image: string; startedAt: number; finishedAt?: number; reason?: string }>;
}

/** What Docker labels cannot hold: ended demos, the line, leases, replacement outcomes. */
export interface StateStore {
  load(): Promise<EngineState>;
  save(state: EngineState): Promise<void>;
}

export interface Clock {
  now(): number;
}
