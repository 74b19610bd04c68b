// What the core knows of an environment of several services (a Compose project): the config edge reads a Compose file into this shape.

/** A service nginx routes to: the first of an environment's is its own host; others get a host of their own. */
export interface RoutedService {
  service: string;
  port: number;
  /** The further host's name part (`api` → api-<id>.<domain>); absent for the first. */
  name?: string;
}

export type DependencyCondition = "service_started" | "service_healthy" | "service_completed_successfully";

export interface HealthcheckSpec {
  /** Docker's form: ["CMD", …], ["CMD-SHELL", "…"]. */
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
  startIntervalMs?: number;
}

/**
 * A path in a container: a named volume of the environment, a fresh in-memory tmpfs, or files copied from the
 * project folder at start (never bind-mounted: a demo cannot change the repository, and a copy works on every node).
 */
export type MountSpec =
  | { kind: "volume"; volume: string; target: string; readOnly: boolean }
  | { kind: "tmpfs"; target: string; sizeBytes?: number }
  | { kind: "copy"; source: string; target: string; readOnly: boolean; mode?: number };

export interface BuildSpec {
  /** A folder inside the project (relative to the project's root, `.` for the root). */
  context: string;
  dockerfile?: string;
  args: Record<string, string>;
  target?: string;
}

export interface ServiceSpec {
  name: string;
  /** The image to run; for a service with `build`, the one our builder makes (then absent here). */
  image?: string;
  build?: BuildSpec;
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  /** Container ports it listens on (expose and ports): never published on the host, nginx reaches routed ones. */
  listens: number[];
  /** The container ports its `ports:` publish (never published by us): when no route is configured, the one publishing service is routed. */
  publishes?: number[];
  healthcheck?: HealthcheckSpec;
  /** Compose's `healthcheck: { disable: true }`: the image's own check is switched off. */
  healthcheckDisabled?: boolean;
  dependsOn: Array<{ service: string; condition: DependencyCondition }>;
  mounts: MountSpec[];
  workingDir?: string;
  user?: string;
  labels: Record<string, string>;
  limits: { memory?: number; cpus?: number; pids?: number };
  restart: "no" | "always" | "on-failure" | "unless-stopped";
  init?: boolean;
  stopSignal?: string;
  stopGraceMs?: number;
  /** Further DNS names on the environment's network (the service's name always is one). */
  aliases: string[];
  /** `network_mode: none`: no network at all (a batch job that needs none). */
  noNetwork?: boolean;
  hostname?: string;
  readOnly?: boolean;
  tty?: boolean;
  stdinOpen?: boolean;
  capAdd: string[];
  capDrop: string[];
  /** Compose's deploy.placement.constraints: where Swarm may run it, beside the app's (one host ignores them). */
  constraints?: string[];
}

export interface EnvironmentSpec {
  /** In start order: every service after those it depends on, otherwise as the file lists them. */
  services: ServiceSpec[];
  /** Named volumes, each created per environment (never shared between demos). */
  volumes: string[];
  routes: RoutedService[];
}

/** A service's limit: what its file asks for, at most the app's (which it gets when the file names none). */
export function cappedLimit(asked: number | undefined, most: number): number {
  return Math.min(asked ?? most, most);
}

/** Order services so each comes after what it depends on; names a cycle when there is one. */
export function startOrder<T extends { name: string; dependsOn: Array<{ service: string }> }>(services: T[]): { order: T[] } | { cycle: string[] } {
  const byName = new Map(services.map((service) => [service.name, service]));
  const order: T[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (service: T, trail: string[]): string[] | undefined => {
    const seen = state.get(service.name);
    if (seen === "done") return undefined;
    if (seen === "visiting") return [...trail.slice(trail.indexOf(service.name)), service.name];
    state.set(service.name, "visiting");
    for (const dependency of service.dependsOn) {
      const next = byName.get(dependency.service);
      if (!next) continue;
      const cycle = visit(next, [...trail, service.name]);
      if (cycle) return cycle;
    }
    state.set(service.name, "done");
    order.push(service);
    return undefined;
  };
  for (const service of services) {
    const cycle = visit(service, []);
    if (cycle) return { cycle };
  }
  return { order };
}

/**
 * An app's Compose file, ready to be read for one demo: the demo's own values (DEMO_URL, DEMO_ID, …) are interpolated
 * into it at every launch. The config edge makes it; the core only asks it.
 */
export interface EnvironmentTemplate {
  /** The file, for messages (demo/compose.yaml). */
  file: string;
  /** Where files the Compose file copies in (bind mounts, secrets, configs) are read from on this machine. */
  projectRoot: string;
  /** `projectRoot` when this demo's files are elsewhere (a preview's commit has a checkout of its own). */
  render(variables: Record<string, string>): Promise<{ ok: true; environment: EnvironmentSpec; projectRoot?: string } | { ok: false; problems: string[] }>;
}
